"""Transfer to a colleague (or, by an admin, to another organisation), copy, archive rules."""

from __future__ import annotations

from sqlalchemy import select

from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.notifications.models import OutboxMessage


def _user_email(app, user_id: int) -> str:
    from datapass.accounts.models import User

    with app.app_context():
        return db.session.get(User, user_id).email


def test_transfer_to_a_colleague_moves_the_request_and_its_credential(world, app):
    request_id = world.validated()
    [(authorization_id, _, _)] = world.authorizations(request_id)
    colleague_email = _user_email(app, world.colleague)
    form = world.as_applicant.get(f"/requests/{request_id}/transfer")
    assert form.status_code == 200 and colleague_email in form.text

    outsider = world.factory.user(organizations=(world.factory.organization(),))
    response = world.as_applicant.post(
        f"/requests/{request_id}/transfer", data={"email": _user_email(app, outsider)}
    )
    assert response.status_code == 400
    assert "n&#39;est pas membre de" in response.text
    unknown = world.as_applicant.post(
        f"/requests/{request_id}/transfer", data={"email": "personne@example.gouv.fr"}
    )
    assert unknown.status_code == 400 and "Aucun compte" in unknown.text
    assert world.request(request_id).applicant_id == world.applicant

    response = world.as_applicant.post(
        f"/requests/{request_id}/transfer",
        data={"email": colleague_email, "reason": "Je change de service."},
    )
    assert response.status_code == 302
    assert world.request(request_id).applicant_id == world.colleague
    with app.app_context():
        assert db.session.get(Authorization, authorization_id).applicant_id == world.colleague
    event = world.last_event(request_id, "transfer")
    assert event.changes["applicant_id"] == [world.applicant, world.colleague]
    assert event.reason == "Je change de service."
    with app.app_context():
        told = set(
            db.session.scalars(
                select(OutboxMessage.recipient).where(OutboxMessage.kind == "transfer_applicant")
            )
        )
    assert told == {_user_email(app, world.applicant), colleague_email}
    # The new applicant manages the credential; the previous one no longer does.
    previous = world.as_applicant.post(f"/authorizations/{authorization_id}/credential/secret")
    assert previous.status_code == 403
    colleague = world.client(world.colleague)
    assert (
        colleague.post(f"/authorizations/{authorization_id}/credential/secret").status_code == 200
    )
    assert world.as_applicant.get(f"/requests/{request_id}/transfer").status_code == 403


def test_only_an_admin_moves_a_request_to_another_organisation(world, app):
    from datapass.accounts.models import Organization

    request_id = world.validated()
    other_org = world.factory.organization()
    newcomer = world.factory.user(organizations=(other_org,))
    with app.app_context():
        siret = db.session.get(Organization, other_org).siret
    data = {"email": _user_email(app, newcomer), "siret": siret}
    response = world.as_applicant.post(f"/requests/{request_id}/transfer", data=data)
    assert response.status_code == 403
    assert world.request(request_id).organization_id == world.org

    response = world.client(world.admin).post(f"/requests/{request_id}/transfer", data=data)
    assert response.status_code == 302
    moved = world.request(request_id)
    assert (moved.organization_id, moved.applicant_id) == (other_org, newcomer)
    assert [a.organization_id for a in _authorizations(app, request_id)] == [other_org]
    # The former organisation no longer sees it.
    assert world.as_applicant.get(f"/requests/{request_id}").status_code == 404


def _authorizations(app, request_id):
    with app.app_context():
        rows = list(db.session.scalars(select(Authorization).filter_by(request_id=request_id)))
        db.session.expunge_all()
        return rows


def test_copy_makes_a_new_draft_with_the_same_content(world):
    source_id = world.validated()
    response = world.client(world.colleague).post(f"/requests/{source_id}/copy")
    assert response.status_code == 302
    copy_id = int(response.headers["Location"].split("/requests/")[1].split("/")[0])
    source, copy = world.request(source_id), world.request(copy_id)
    assert copy_id != source_id
    assert (copy.state, copy.applicant_id, copy.organization_id) == (
        "draft",
        world.colleague,
        world.org,
    )
    assert copy.data == source.data
    assert world.events(copy_id) == ["create", "copy"]
    assert world.state(source_id) == "validated"
    assert world.authorizations(copy_id) == []
    outsider = world.factory.user(organizations=(world.factory.organization(),))
    assert world.client(outsider).post(f"/requests/{source_id}/copy").status_code == 404


def test_archive_rules(world):
    factory, applicant, org = world.factory, world.applicant, world.org
    for state in ("draft", "changes_requested", "refused"):
        request_id = factory.request(applicant, org, state=state, instructor_id=world.instructor)
        assert world.as_applicant.post(f"/requests/{request_id}/archive").status_code == 302
        assert world.state(request_id) == "archived", state
    submitted = factory.request(applicant, org, state="submitted")
    validated = world.validated()
    for request_id, before in ((submitted, "submitted"), (validated, "validated")):
        response = world.as_applicant.post(f"/requests/{request_id}/archive")
        assert response.status_code == 409
        assert world.state(request_id) == before
    # Archived is terminal: no copy-back, no transfer, no reopening.
    archived = factory.request(applicant, org, state="draft")
    world.as_applicant.post(f"/requests/{archived}/archive")
    assert world.as_applicant.get(f"/requests/{archived}/transfer").status_code == 403
    assert world.as_applicant.post(f"/requests/{archived}/reopen").status_code == 409


def test_a_definition_may_forbid_transfer(world):
    request_id = world.validated("api_droits_cnam")  # features: transfer: false
    page = world.as_applicant.get(f"/requests/{request_id}")
    assert 'data-testid="transfer"' not in page.text
    assert world.as_applicant.get(f"/requests/{request_id}/transfer").status_code == 403
    assert world.request(request_id).applicant_id == world.applicant
