"""Revocation by an instructor, with a reason: the credential stops at once (introspection and
token endpoint), the applicant is told why, a reopening in progress ends."""

from __future__ import annotations

from sqlalchemy import select

from datapass.extensions import db
from datapass.notifications.models import OutboxMessage


def _emails(app, kind: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))
        db.session.expunge_all()
        return rows


def test_revoking_a_request_stops_its_credential_and_tells_the_applicant(world, app):
    request_id = world.validated()
    [(authorization_id, _, _)] = world.authorizations(request_id)
    client_id, secret = world.credential(authorization_id)
    token = world.token(client_id, secret).json["access_token"]
    assert world.introspect(token)["active"] is True

    # No reason, no revocation; an applicant cannot revoke.
    world.as_instructor.post(f"/instruction/requests/{request_id}/revoke", data={"reason": " "})
    assert world.state(request_id) == "validated"
    applicant = world.as_applicant.post(
        f"/instruction/requests/{request_id}/revoke", data={"reason": "x"}
    )
    assert applicant.status_code == 404
    assert world.introspect(token)["active"] is True

    response = world.as_instructor.post(
        f"/instruction/requests/{request_id}/revoke",
        data={"reason": "Usage non conforme au cadre juridique."},
    )
    assert response.status_code == 302
    assert world.state(request_id) == "revoked"
    assert [a[1] for a in world.authorizations(request_id)] == ["revoked"]
    assert world.introspect(token) == {"active": False}
    refused = world.token(client_id, secret)
    assert refused.status_code in (400, 401)
    assert refused.json["error"] in ("invalid_grant", "invalid_client")

    events = world.events(request_id)
    assert {"revoke_authorization", "revoke"} <= set(events)
    assert world.last_event(request_id, "revoke").reason == "Usage non conforme au cadre juridique."
    [email] = _emails(app, "revoke_applicant")
    assert email.context["reason"] == "Usage non conforme au cadre juridique."
    page = world.as_applicant.get(f"/requests/{request_id}")
    assert 'data-testid="revocation-reason"' in page.text
    assert "Usage non conforme au cadre juridique." in page.text
    # Revoked: it can be archived, not reopened.
    assert world.as_applicant.post(f"/requests/{request_id}/reopen").status_code == 409
    assert world.as_applicant.post(f"/requests/{request_id}/archive").status_code == 302
    assert world.state(request_id) == "archived"


def test_revoking_during_a_reopening_ends_it_and_nothing_comes_back(world):
    request_id = world.validated()
    original = world.request(request_id).data
    world.as_applicant.post(f"/requests/{request_id}/reopen")
    world.choose_scopes(request_id, ["cnaf_rsa"])
    world.submit(request_id)

    [(authorization_id, _, _)] = world.authorizations(request_id)
    response = world.as_instructor.post(
        f"/authorizations/{authorization_id}/revoke", data={"reason": "Fin de la convention."}
    )
    assert response.status_code == 302
    after = world.request(request_id)
    assert after.state == "revoked"
    assert after.data == original
    assert world.authorizations(request_id)[0][1] == "revoked"
    events = world.events(request_id)
    assert events.index("cancel_reopening") < events.index("revoke")
    # The reopening cannot be approved afterwards: no authorization comes back to life.
    response = world.decide(request_id, "approve")
    assert world.state(request_id) == "revoked"
    assert [a[1] for a in world.authorizations(request_id)] == ["revoked"]


def test_an_obsolete_authorization_cannot_be_revoked(world):
    request_id = world.validated()
    world.as_applicant.post(f"/requests/{request_id}/reopen")
    world.choose_scopes(request_id, ["cnaf_rsa"])
    world.submit(request_id)
    world.decide(request_id, "approve")
    [(old_id, old_state, _), (_, new_state, _)] = world.authorizations(request_id)
    assert (old_state, new_state) == ("obsolete", "active")
    response = world.as_instructor.post(f"/authorizations/{old_id}/revoke", data={"reason": "x"})
    assert response.status_code == 409
    assert world.state(request_id) == "validated"
    assert [a[1] for a in world.authorizations(request_id)] == ["obsolete", "active"]
