"""The instructors' pages: the queue, the review page, decisions, messages; reporters read only."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from datapass.accounts.models import User
from datapass.authorizations.models import Authorization
from datapass.errors import CHANGED_MEANWHILE
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.lifecycle.models import Event
from datapass.requests.models import AuthorizationRequest, Message
from tests.integration.helpers import after_testid, error_message, file_storage, flashes, text


def queue_ids(page: str) -> list[int]:
    table = after_testid(page, "queue-table")
    return [int(i) for i in re.findall(r'href="/instruction/requests/(\d+)"', table)]


def queue_total(page: str) -> int:
    return int(re.search(r'data-testid="queue-total">(\d+) demande', page)[1])


def version_of(app, request_id: int) -> int:
    with app.app_context():
        return db.session.get(AuthorizationRequest, request_id).lock_version


def decide(client, request_id: int, decision: str, version: int, reason: str = ""):
    return client.post(
        f"/instruction/requests/{request_id}/decision",
        data={"decision": decision, "lock_version": version, "reason": reason},
    )


def state_of(factory, request_id: int) -> str:
    return factory.get_request(request_id).state


def set_title(app, request_id: int, title: str) -> None:
    """Test setup: give a request a distinctive title (data only; the state is untouched)."""
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        request_obj.data["intitule"] = title
        db.session.commit()


@pytest.fixture
def staff(login_as, instructor):
    return login_as(instructor)


# The queue


def test_queue_shows_only_the_instructors_definitions_and_no_drafts(factory, staff, applicant, org):
    particulier = factory.request(applicant, org, state="submitted")
    refused = factory.request(applicant, org, state="refused")
    draft = factory.request(applicant, org)
    archived = factory.request(applicant, org, state="archived")
    entreprise = factory.request(applicant, org, definition_id="api_entreprise", state="submitted")
    page = staff.get("/instruction").text
    assert sorted(queue_ids(page)) == sorted([particulier, refused])
    assert queue_total(page) == 2
    for hidden in (draft, archived, entreprise):
        assert f"/instruction/requests/{hidden}" not in page
    # The definition filter offers only its own definitions.
    options = re.findall(r'<option[^>]*value="(api_[a-z_]+)"', page)
    assert options == ["api_particulier"]
    # Asking for another definition by filter does not reach its requests.
    assert entreprise not in queue_ids(staff.get("/instruction?definition=api_entreprise").text)


def test_queue_filters_by_state_and_definition(factory, login_as, applicant, org):
    admin = login_as(factory.user(admin=True))
    submitted = factory.request(applicant, org, state="submitted")
    validated = factory.request(applicant, org, state="validated")
    draft = factory.request(applicant, org)
    entreprise = factory.request(applicant, org, definition_id="api_entreprise", state="submitted")
    assert queue_ids(admin.get("/instruction?state=validated").text) == [validated]
    assert queue_ids(admin.get("/instruction?state=draft").text) == [draft]
    assert sorted(queue_ids(admin.get("/instruction?state=submitted").text)) == sorted(
        [submitted, entreprise]
    )
    assert queue_ids(admin.get("/instruction?definition=api_entreprise").text) == [entreprise]
    both = admin.get("/instruction?definition=api_particulier&state=submitted").text
    assert queue_ids(both) == [submitted]
    # An unknown state is shown in error beside its field; the other filters still apply.
    page = admin.get("/instruction?state=n_importe_quoi&definition=api_entreprise").text
    assert queue_ids(page) == [entreprise]
    assert "N'est pas un choix valide." in text(page)


def test_queue_searches_text_and_ids(app, factory, staff, applicant):
    clamart = factory.organization("Commune de Clamart")
    lyon = factory.organization("Ville de Lyon")
    camille = factory.user(organizations=(clamart, lyon), email="camille@mairie.fr")
    first = factory.request(camille, clamart, state="submitted")
    second = factory.request(camille, lyon, state="submitted")
    set_title(app, first, "Portage de repas aux SENIORS")
    set_title(app, second, "Aides au transport scolaire")
    with app.app_context():
        from datapass.accounts.models import Organization

        siret = db.session.get(Organization, lyon).siret
    assert queue_ids(staff.get("/instruction?q=seniors").text) == [first]
    assert queue_ids(staff.get("/instruction?q=  Transport ").text) == [second]
    assert queue_ids(staff.get("/instruction?q=lyon").text) == [second]  # organisation name
    assert queue_ids(staff.get(f"/instruction?q={siret}").text) == [second]
    assert sorted(queue_ids(staff.get("/instruction?q=CAMILLE@mairie").text)) == sorted(
        [first, second]
    )
    for query in (f"D{second}", f"d{second}", str(second), f"%23{second}", f" {second} "):
        assert queue_ids(staff.get(f"/instruction?q={query}").text) == [second], query
    assert queue_ids(staff.get("/instruction?q=introuvable").text) == []
    assert "Aucune demande ne correspond à ces critères." in staff.get("/instruction?q=zzz").text


def test_id_search_stays_scoped_to_the_instructors_definitions(factory, staff, applicant, org):
    entreprise = factory.request(applicant, org, definition_id="api_entreprise", state="submitted")
    assert queue_ids(staff.get(f"/instruction?q=D{entreprise}").text) == []


def test_queue_sorts(factory, staff, applicant, org):
    ids = [factory.request(applicant, org, state="submitted") for _ in range(3)]
    assert queue_ids(staff.get("/instruction?sort=submitted_asc").text) == ids
    assert queue_ids(staff.get("/instruction?sort=created_desc").text) == ids[::-1]
    # The default order is the last update first: deciding on the oldest brings it first.
    decide(staff, ids[0], "request_changes", version_of(staff.application, ids[0]), "Précisez.")
    assert queue_ids(staff.get("/instruction").text) == [ids[0], ids[2], ids[1]]


def test_queue_pages_by_25(factory, staff, applicant, org):
    ids = [factory.request(applicant, org, state="submitted") for _ in range(26)]
    page1 = staff.get("/instruction?sort=submitted_asc").text
    assert queue_total(page1) == 26
    assert queue_ids(page1) == ids[:25]
    nxt = html.unescape(re.search(r'href="([^"]+)"[^>]*data-testid="queue-next"', page1)[1])
    assert "after=" in nxt and "sort=submitted_asc" in nxt
    page2 = staff.get(nxt).text
    assert queue_ids(page2) == ids[25:]
    assert 'data-testid="queue-next"' not in page2
    # A forged cursor is refused with a French message, and the list starts again from the top.
    forged = staff.get("/instruction?sort=submitted_asc&after=garbage")
    assert forged.status_code == 400
    assert "Lien de pagination invalide" in forged.text
    assert queue_ids(forged.text) == ids[:25]


# The review page


def test_request_page_shows_data_documents_events_and_changes(
    app, factory, staff, instructor, applicant, org, login_as
):
    request_id = factory.request(
        applicant, org, state="changes_requested", instructor_id=instructor
    )
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        user = db.session.get(User, applicant)
        before = request_obj.data["intitule"]
        services.save_step(request_obj, user, {"intitule": "Cantine et centre de loisirs"})
        services.add_documents(request_obj, user, [file_storage("deliberation.pdf")])
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        db.session.commit()
        document_id = request_obj.documents[0].id
    page = staff.get(f"/instruction/requests/{request_id}").text
    changes = after_testid(page, "changes")
    changes = changes[: changes.index("</table>")]
    rows = [" ".join(text(row).split()) for row in re.findall(r"<tr><td>.*?</tr>", changes, re.S)]
    assert rows == [
        "Cadre juridique › Documents (PDF) — deliberation.pdf",
        f"Informations générales › Intitulé de la demande {before} Cantine et centre de loisirs",
    ]
    content = text(page)
    assert "Délibération du conseil municipal n° 2024-117" in content
    assert "Agents du service enfance et éducation" in content
    documents = after_testid(page, "documents")
    assert f'href="/requests/{request_id}/documents/{document_id}">deliberation.pdf' in documents
    download = staff.get(f"/requests/{request_id}/documents/{document_id}")
    download.close()
    assert download.status_code == 200
    timeline = text(after_testid(page, "timeline"))
    for label in ("Demande soumise", "Modifications demandées", "Demande créée"):
        assert label in timeline
    assert "Précisez la durée." in timeline
    change = (
        f"Informations générales › Intitulé de la demande : {before} → Cantine et centre de loisirs"
    )
    assert change in " ".join(timeline.split())
    own_page = login_as(applicant).get(f"/requests/{request_id}").text  # the applicant's history
    assert change in " ".join(text(after_testid(own_page, "timeline")).split())
    assert 'data-testid="decisions"' in page


def test_first_submission_has_no_changes_block(factory, staff, applicant, org):
    request_id = factory.request(applicant, org, state="submitted")
    assert 'data-testid="changes"' not in staff.get(f"/instruction/requests/{request_id}").text


# Decisions


@pytest.mark.parametrize("decision", ["request_changes", "refuse"])
def test_request_changes_and_refuse_need_a_reason(app, factory, staff, applicant, org, decision):
    request_id = factory.request(applicant, org, state="submitted")
    version = version_of(app, request_id)
    response = decide(staff, request_id, decision, version, reason="   ")
    assert response.status_code == 302
    follow = staff.get(response.location)
    assert "Le motif est obligatoire." in flashes(follow.text)
    assert state_of(factory, request_id) == "submitted"
    response = decide(staff, request_id, decision, version, reason="Le cadre juridique manque.")
    assert response.status_code == 302
    expected = {"request_changes": "changes_requested", "refuse": "refused"}[decision]
    assert state_of(factory, request_id) == expected
    page = staff.get(response.location).text
    assert any("Le demandeur en est informé" in f for f in flashes(page))
    assert "Le cadre juridique manque." in text(after_testid(page, "timeline"))
    assert 'data-testid="decisions"' not in page


def test_validate_issues_the_authorization(app, factory, staff, applicant, org):
    request_id = factory.request(applicant, org, state="submitted")
    response = decide(staff, request_id, "approve", version_of(app, request_id))
    assert response.status_code == 302
    assert state_of(factory, request_id) == "validated"
    with app.app_context():
        authorization = db.session.scalars(select(Authorization)).one()
        authorization_id = authorization.id
        assert authorization.state == "active"
    page = staff.get(response.location).text
    assert f"Demande validée : habilitation n°{authorization_id} délivrée." in flashes(page)
    assert f'href="/authorizations/{authorization_id}"' in page


def test_an_unknown_decision_changes_nothing(app, factory, staff, applicant, org):
    request_id = factory.request(applicant, org, state="submitted")
    response = decide(staff, request_id, "delete", version_of(app, request_id), "Motif")
    assert "Décision inconnue." in flashes(staff.get(response.location).text)
    assert state_of(factory, request_id) == "submitted"


def test_a_stale_lock_version_is_a_409_saying_the_request_changed_meanwhile(
    app, factory, staff, applicant, org
):
    request_id = factory.request(applicant, org, state="submitted")
    seen = version_of(app, request_id)
    # The applicant's side moved the request since the page was shown (a message does not).
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        request_obj.data["description"] = "Changed"  # any update bumps the version
        db.session.commit()
    assert version_of(app, request_id) == seen + 1
    for decision in ("approve", "refuse", "request_changes"):
        response = decide(staff, request_id, decision, seen, "Motif")
        assert response.status_code == 409
        assert error_message(response.text) == CHANGED_MEANWHILE
        assert "modifiée entre-temps" in response.text
    assert state_of(factory, request_id) == "submitted"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Authorization)) == 0


@pytest.mark.parametrize(("state", "decision"), [("validated", "approve"), ("draft", "refuse")])
def test_an_illegal_move_is_a_409(app, factory, staff, instructor, applicant, org, state, decision):
    request_id = factory.request(applicant, org, state=state, instructor_id=instructor)
    response = decide(staff, request_id, decision, version_of(app, request_id), "Motif")
    assert response.status_code == 409
    assert f"« {decision} » impossible depuis l'état « {state} »" in error_message(response.text)
    assert state_of(factory, request_id) == state


# Messages


def test_instructor_and_applicant_exchange_messages(app, factory, staff, login_as, applicant, org):
    request_id = factory.request(applicant, org, state="submitted")
    response = staff.post(f"/requests/{request_id}/messages", data={"body": "Quel public ?"})
    assert response.location == f"/instruction/requests/{request_id}#messages"
    login_as(applicant).post(f"/requests/{request_id}/messages", data={"body": "Les familles."})
    messages = text(after_testid(staff.get(f"/instruction/requests/{request_id}").text, "messages"))
    assert messages.index("Quel public ?") < messages.index("Les familles.")
    with app.app_context():
        rows = db.session.scalars(select(Message).order_by(Message.id)).all()
        assert [m.from_instructor for m in rows] == [True, False]


def test_messaging_is_off_when_the_definition_disables_it(app, factory, login_as, applicant, org):
    cnam_instructor = login_as(factory.user(roles=(("instructor", "api_droits_cnam"),)))
    request_id = factory.request(applicant, org, definition_id="api_droits_cnam", state="submitted")
    page = cnam_instructor.get(f"/instruction/requests/{request_id}").text
    assert "Envoyer le message" not in page
    assert "Envoyer le message" not in login_as(applicant).get(f"/requests/{request_id}").text
    response = cnam_instructor.post(f"/requests/{request_id}/messages", data={"body": "Bonjour"})
    assert response.status_code == 403
    assert "La messagerie n'est pas ouverte pour cette demande." in error_message(response.text)
    assert (
        login_as(applicant)
        .post(f"/requests/{request_id}/messages", data={"body": "Bonjour"})
        .status_code
        == 403
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0


# Who may see and act


def test_reporter_reads_but_cannot_act(app, factory, login_as, reporter, applicant, org):
    reader = login_as(reporter)
    request_id = factory.request(applicant, org, state="submitted")
    assert queue_ids(reader.get("/instruction").text) == [request_id]
    page = reader.get(f"/instruction/requests/{request_id}").text
    assert "Lecture seule : vous êtes rapporteur de cette API." in page
    assert 'data-testid="decisions"' not in page
    assert "Envoyer le message" not in page
    version = version_of(app, request_id)
    for decision in ("approve", "refuse", "request_changes"):
        assert decide(reader, request_id, decision, version, "Motif").status_code == 403
    assert reader.post(f"/requests/{request_id}/messages", data={"body": "Hop"}).status_code == 403
    for url, data in [
        (f"/requests/{request_id}/archive", {}),
        (f"/requests/{request_id}/summary", {"terms_accepted": "y", "dpo_informed": "y"}),
        (f"/requests/{request_id}/steps/basic_infos", {"intitule": "X", "description": "Y"}),
    ]:
        assert reader.post(url, data=data).status_code == 404, url
    assert state_of(factory, request_id) == "submitted"
    with app.app_context():
        names = db.session.scalars(select(Event.name).where(Event.request_id == request_id))
        assert list(names) == ["create", "submit"]


def test_instructor_of_another_definition_gets_404(app, factory, login_as, applicant, org):
    other = login_as(factory.user(roles=(("instructor", "api_entreprise"),)))
    request_id = factory.request(applicant, org, state="submitted")
    version = version_of(app, request_id)
    assert other.get(f"/instruction/requests/{request_id}").status_code == 404
    assert decide(other, request_id, "approve", version).status_code == 404
    assert other.post(f"/requests/{request_id}/messages", data={"body": "x"}).status_code == 404
    assert request_id not in queue_ids(other.get("/instruction").text)
    assert state_of(factory, request_id) == "submitted"


def test_applicants_have_no_instruction_pages(factory, login_as, applicant, org):
    me = login_as(applicant)
    request_id = factory.request(applicant, org, state="submitted")
    assert me.get("/instruction").status_code == 404
    assert me.get(f"/instruction/requests/{request_id}").status_code == 404
    response = me.post(
        f"/instruction/requests/{request_id}/decision",
        data={"decision": "approve", "lock_version": 2},
    )
    assert response.status_code == 404
    assert state_of(factory, request_id) == "submitted"
