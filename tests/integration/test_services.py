"""The lifecycle services on a real (migrated SQLite) database: each move, its Event, its guards."""

from __future__ import annotations

import threading
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datapass.accounts.models import Organization, User
from datapass.authorizations.models import Authorization
from datapass.catalog import get_definition
from datapass.errors import CHANGED_MEANWHILE, Conflict, DomainError, Forbidden
from datapass.extensions import db
from datapass.lifecycle import reopening, services
from datapass.lifecycle.models import Event
from datapass.requests.documents import DocumentRejected, storage_path
from datapass.requests.models import AuthorizationRequest, Message
from tests.integration.helpers import PDF, file_storage

DECISIONS = ("approve", "refuse", "request_changes")


@contextmanager
def loaded(app, request_id: int, *user_ids: int):
    """An app context with the request and the users loaded; rolls back what was not committed."""
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        users = [db.session.get(User, u) for u in user_ids]
        try:
            yield request_obj, *users
        finally:
            db.session.rollback()


def event_names(app, request_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Event.name).where(Event.request_id == request_id).order_by(Event.id)
            )
        )


def state_of(app, request_id: int) -> str:
    with app.app_context():
        return db.session.get(AuthorizationRequest, request_id).state


def authorization_count(app, request_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(Authorization)
            .where(Authorization.request_id == request_id)
        )


# start_request / save_step


def test_start_request_creates_a_draft_with_its_create_event(app, applicant, org):
    with app.app_context():
        user = db.session.get(User, applicant)
        request_obj = services.start_request(
            user, get_definition("api_particulier"), db.session.get(Organization, org)
        )
        db.session.commit()
        request_id = request_obj.id
        assert (request_obj.state, request_obj.applicant_id, request_obj.organization_id) == (
            "draft",
            applicant,
            org,
        )
        assert request_obj.data == {}
    assert event_names(app, request_id) == ["create"]


def test_start_request_for_an_organisation_of_which_one_is_not_member_is_forbidden(
    app, applicant, other_org
):
    with app.app_context():
        user = db.session.get(User, applicant)
        with pytest.raises(Forbidden, match="pas membre"):
            services.start_request(
                user, get_definition("api_particulier"), db.session.get(Organization, other_org)
            )
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(AuthorizationRequest)) == 0


def test_start_request_on_a_closed_definition_is_forbidden(app, applicant, org):
    with app.app_context():
        definition = get_definition("api_particulier").model_copy(
            update={"public": False, "stage": None}
        )
        with pytest.raises(Forbidden, match="pas ouverte"):
            services.start_request(
                db.session.get(User, applicant), definition, db.session.get(Organization, org)
            )


def test_a_closed_organisation_cannot_start_a_request(app, applicant, org):
    with app.app_context():
        organization = db.session.get(Organization, org)
        organization.is_active = False  # the register says the establishment is closed
        with pytest.raises(Forbidden, match="fermé"):
            services.start_request(
                db.session.get(User, applicant), get_definition("api_particulier"), organization
            )
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(AuthorizationRequest)) == 0


def test_save_step_merges_data_and_only_the_applicant_may_edit_a_draft(factory, app, org):
    applicant = factory.user(organizations=(org,))
    colleague = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org, complete=False)
    with loaded(app, request_id, applicant, colleague) as (request_obj, user, other):
        services.save_step(request_obj, user, {"intitule": "Cantine"})
        services.save_step(request_obj, user, {"description": "Tarifs"})
        db.session.commit()
        assert request_obj.data == {"intitule": "Cantine", "description": "Tarifs"}
        with pytest.raises(Forbidden):
            services.save_step(request_obj, other, {"intitule": "Piratage"})
    assert factory.get_request(request_id).data["intitule"] == "Cantine"


def test_save_step_on_a_submitted_request_is_forbidden(factory, app, applicant, org):
    request_id = factory.request(applicant, org, state="submitted")
    with (
        loaded(app, request_id, applicant) as (request_obj, user),
        pytest.raises(Forbidden, match="ne peut pas être modifiée"),
    ):
        services.save_step(request_obj, user, {"intitule": "Changé après soumission"})
    assert factory.get_request(request_id).data["intitule"] != "Changé après soumission"


# Documents


def test_add_documents_stores_pdfs_by_hash_and_remove_keeps_the_file(factory, app, applicant, org):
    request_id = factory.request(applicant, org)
    with loaded(app, request_id, applicant) as (request_obj, user):
        documents = services.add_documents(
            request_obj, user, [file_storage("délibération 2024.pdf"), file_storage("b.pdf")]
        )
        db.session.commit()
        assert [d.filename for d in documents] == ["deliberation_2024.pdf", "b.pdf"]
        path = storage_path(documents[0].sha256)
        assert path.read_bytes() == PDF
        assert documents[0].size == len(PDF)
        services.remove_document(request_obj, user, documents[0])
        db.session.commit()
        assert [d.filename for d in request_obj.documents] == ["b.pdf"]
        assert path.exists()  # authorizations' snapshots may still point at it


def test_add_documents_checks_every_file_before_storing_any(factory, app, applicant, org):
    request_id = factory.request(applicant, org)
    with loaded(app, request_id, applicant) as (request_obj, user):
        uploads = [file_storage("ok.pdf"), file_storage("photo.pdf", b"\x89PNG\r\n\x1a\n...")]
        with pytest.raises(DocumentRejected, match="« photo.pdf » n'est pas un document PDF"):
            services.add_documents(request_obj, user, uploads)
        db.session.rollback()
        assert request_obj.documents == []
        upload_dir = Path(app.config["UPLOAD_DIR"])
        assert not upload_dir.exists() or not any(upload_dir.rglob("*"))


def test_add_documents_enforces_size_and_count_limits(factory, app, applicant, org):
    app.config.update(MAX_DOCUMENT_SIZE=len(PDF) + 10, MAX_DOCUMENTS=2)
    request_id = factory.request(applicant, org)
    with loaded(app, request_id, applicant) as (request_obj, user):
        too_big = PDF[:-6] + b" " * 20 + b"%%EOF\n"
        with pytest.raises(DocumentRejected, match="dépasse la taille maximale"):
            services.add_documents(request_obj, user, [file_storage("gros.pdf", too_big)])
        db.session.rollback()
        with pytest.raises(DomainError, match="2 documents au plus"):
            services.add_documents(request_obj, user, [file_storage()] * 3)
        db.session.rollback()
        services.add_documents(request_obj, user, [file_storage("1.pdf"), file_storage("2.pdf")])
        db.session.commit()
        with pytest.raises(DomainError, match="2 documents au plus"):
            services.add_documents(request_obj, user, [file_storage("3.pdf")])
        db.session.rollback()
        assert len(request_obj.documents) == 2


# Submit


def test_submit_moves_to_submitted_and_records_its_event_in_the_same_transaction(
    factory, app, applicant, org
):
    request_id = factory.request(applicant, org)
    with loaded(app, request_id, applicant) as (request_obj, user):
        event = services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        assert (event.from_state, event.to_state, event.changes) == ("draft", "submitted", {})
        db.session.rollback()  # the action fails after the service: neither half stays
    assert state_of(app, request_id) == "draft"
    assert event_names(app, request_id) == ["create"]
    with loaded(app, request_id, applicant) as (request_obj, user):
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        db.session.commit()
        assert request_obj.submitted_at is not None
        assert request_obj.submitted_data["intitule"] == request_obj.data["intitule"]
    assert state_of(app, request_id) == "submitted"
    assert event_names(app, request_id) == ["create", "submit"]


def test_submit_requires_a_complete_request_and_both_commitments(factory, app, applicant, org):
    request_id = factory.request(applicant, org, complete=False)
    with (
        loaded(app, request_id, applicant) as (request_obj, user),
        pytest.raises(Conflict, match="incomplète"),
    ):
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
    complete_id = factory.request(applicant, org)
    with loaded(app, complete_id, applicant) as (request_obj, user):
        with pytest.raises(Conflict, match="conditions générales"):
            services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=False)
        with pytest.raises(Conflict, match="conditions générales"):
            services.submit_request(request_obj, user, terms_accepted=False, dpo_informed=True)
    assert state_of(app, request_id) == state_of(app, complete_id) == "draft"
    assert event_names(app, complete_id) == ["create"]


def test_only_the_applicant_submits(factory, app, org, applicant):
    colleague = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org)
    with loaded(app, request_id, colleague) as (request_obj, other), pytest.raises(Forbidden):
        services.submit_request(request_obj, other, terms_accepted=True, dpo_informed=True)


def test_resubmission_records_the_changes_since_the_previous_submission(
    factory, app, applicant, org, instructor
):
    request_id = factory.request(
        applicant, org, state="changes_requested", instructor_id=instructor
    )
    with loaded(app, request_id, applicant) as (request_obj, user):
        before = request_obj.data["intitule"]
        services.save_step(request_obj, user, {"intitule": "Cantine 2025"})
        services.add_documents(request_obj, user, [file_storage("arrete.pdf")])
        event = services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        db.session.commit()
        sha = request_obj.documents[0].sha256
        document_id = request_obj.documents[0].id
        changes = event.changes
    assert changes == {
        "intitule": [before, "Cantine 2025"],
        "documents": [
            [],
            [{"id": document_id, "filename": "arrete.pdf", "size": len(PDF), "sha256": sha}],
        ],
    }
    assert state_of(app, request_id) == "submitted"


# Archive


def test_archive_a_draft_and_refuse_to_archive_a_submitted_request(factory, app, applicant, org):
    draft = factory.request(applicant, org)
    submitted = factory.request(applicant, org, state="submitted")
    with loaded(app, draft, applicant) as (request_obj, user):
        services.archive_request(request_obj, user)
        db.session.commit()
    with (
        loaded(app, submitted, applicant) as (request_obj, user),
        pytest.raises(Conflict, match="« archive » impossible depuis l'état « submitted »"),
    ):
        services.archive_request(request_obj, user)
    assert (state_of(app, draft), state_of(app, submitted)) == ("archived", "submitted")
    assert event_names(app, draft)[-1] == "archive"
    assert event_names(app, submitted)[-1] == "submit"


def test_archive_is_the_applicants_only(factory, app, applicant, org):
    colleague = factory.user(organizations=(org,))
    draft = factory.request(applicant, org)
    with loaded(app, draft, colleague) as (request_obj, other), pytest.raises(Forbidden):
        services.archive_request(request_obj, other)
    assert state_of(app, draft) == "draft"


# Messages


def test_post_message_from_both_sides(factory, app, applicant, org, instructor):
    request_id = factory.request(applicant, org, state="submitted")
    with loaded(app, request_id, applicant, instructor) as (request_obj, user, staff):
        services.post_message(request_obj, staff, "  Précisez le public concerné.  ")
        services.post_message(request_obj, user, "Les familles de la commune.")
        db.session.commit()
        rows = db.session.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.body, m.from_instructor) for m in rows] == [
            ("Précisez le public concerné.", True),
            ("Les familles de la commune.", False),
        ]
    assert event_names(app, request_id)[-2:] == ["message", "message"]


def test_post_message_refuses_empty_bodies_outsiders_and_closed_messaging(
    factory, app, applicant, org, outsider
):
    request_id = factory.request(applicant, org, state="submitted")
    cnam_id = factory.request(applicant, org, definition_id="api_droits_cnam", state="submitted")
    with loaded(app, request_id, applicant, outsider) as (request_obj, user, stranger):
        with pytest.raises(DomainError, match="Le message est vide"):
            services.post_message(request_obj, user, "   ")
        with pytest.raises(Forbidden):
            services.post_message(request_obj, stranger, "Bonjour")
    with (
        loaded(app, cnam_id, applicant) as (request_obj, user),
        pytest.raises(Forbidden, match="messagerie n'est pas ouverte"),
    ):
        services.post_message(request_obj, user, "Bonjour")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert "message" not in event_names(app, request_id) + event_names(app, cnam_id)


# Decisions


@pytest.mark.parametrize(
    ("decide", "state"),
    [(services.request_changes, "changes_requested"), (services.refuse_request, "refused")],
)
def test_request_changes_and_refuse_need_a_reason(
    factory, app, applicant, org, instructor, decide, state
):
    request_id = factory.request(applicant, org, state="submitted")
    with loaded(app, request_id, instructor) as (request_obj, staff):
        for reason in ("", "   ", None):
            with pytest.raises(Conflict, match="un motif est obligatoire"):
                decide(request_obj, staff, reason)
            db.session.rollback()
        assert state_of(app, request_id) == "submitted"
        event = decide(request_obj, staff, "  Cadre juridique insuffisant.  ")
        db.session.commit()
        assert (event.reason, event.from_state, event.to_state) == (
            "Cadre juridique insuffisant.",
            "submitted",
            state,
        )
        assert request_obj.decided_at is not None
        name = event.name
    assert state_of(app, request_id) == state
    assert event_names(app, request_id) == ["create", "submit", name]


def test_reporter_and_other_definitions_instructor_cannot_decide(factory, app, applicant, org):
    reporter = factory.user(roles=(("reporter", "api_particulier"),))
    other = factory.user(roles=(("instructor", "api_entreprise"),))
    request_id = factory.request(applicant, org, state="submitted")
    with loaded(app, request_id, reporter, other) as (request_obj, *users):
        for user in users:
            with pytest.raises(Forbidden, match="n'instruisez pas"):
                services.approve_request(request_obj, user)
            with pytest.raises(Forbidden):
                services.refuse_request(request_obj, user, "Non.")
    assert state_of(app, request_id) == "submitted"
    assert authorization_count(app, request_id) == 0


def test_approve_issues_an_active_authorization_snapshot(factory, app, applicant, org, instructor):
    request_id = factory.request(applicant, org)
    with loaded(app, request_id, applicant) as (request_obj, user):
        services.add_documents(request_obj, user, [file_storage("deliberation.pdf")])
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        db.session.commit()
    with loaded(app, request_id, instructor) as (request_obj, staff):
        authorization = services.approve_request(request_obj, staff, "Bonne intégration.")
        db.session.commit()
        authorization_id = authorization.id
        expected_data = dict(request_obj.data)
        expected_documents = [d.snapshot() for d in request_obj.documents]
    with app.app_context():
        authorization = db.session.get(Authorization, authorization_id)
        assert authorization.state == "active"
        assert authorization.data == expected_data
        assert (
            authorization.scopes
            == expected_data["scopes"]
            == [
                "cnaf_quotient_familial",
                "msa_quotient_familial",
            ]
        )
        assert authorization.documents == expected_documents
        assert [d["filename"] for d in authorization.documents] == ["deliberation.pdf"]
        assert (authorization.organization_id, authorization.applicant_id) == (org, applicant)
        events = db.session.scalars(
            select(Event).where(Event.request_id == request_id).order_by(Event.id)
        ).all()
    assert [e.name for e in events] == [
        "create",
        "submit",
        "approve",
        "issue_authorization",
        "issue_credential",
    ]
    assert events[2].reason == "Bonne intégration."
    assert events[3].authorization_id == authorization_id
    assert state_of(app, request_id) == "validated"


def test_the_authorization_stays_frozen_when_the_request_moves_on(
    factory, app, login_as, applicant, org, instructor
):
    request_id = factory.request(applicant, org)
    with loaded(app, request_id, applicant, instructor) as (request_obj, user, staff):
        services.add_documents(request_obj, user, [file_storage("deliberation.pdf")])
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        authorization = services.approve_request(request_obj, staff)
        db.session.commit()
        authorization_id, document = authorization.id, request_obj.documents[0]
        frozen_data, frozen_documents = dict(authorization.data), list(authorization.documents)
        # The applicant reopens the request, renames it and drops the document.
        reopening.reopen_request(request_obj, user)
        services.save_step(request_obj, user, {"intitule": "Nouvel intitulé"})
        request_obj.data["scopes"].append("cnaf_rsa")
        services.remove_document(request_obj, user, document)
        db.session.commit()
        document_id = document.id
    with app.app_context():
        authorization = db.session.get(Authorization, authorization_id)
        assert authorization.data == frozen_data
        assert authorization.data["intitule"] != "Nouvel intitulé"
        assert "cnaf_rsa" not in authorization.data["scopes"]
        assert authorization.documents == frozen_documents
    # The dropped document stays reachable through the authorization's snapshot.
    download = login_as(applicant).get(f"/requests/{request_id}/documents/{document_id}")
    body = download.get_data()
    download.close()
    assert (download.status_code, body) == (200, PDF)


# Illegal moves and stale versions


@pytest.mark.parametrize(
    ("state", "move"),
    [
        ("draft", "approve"),
        ("draft", "refuse"),
        ("validated", "approve"),
        ("refused", "request_changes"),
        ("archived", "approve"),
        ("submitted", "submit"),
        ("validated", "archive"),
    ],
)
def test_illegal_moves_raise_a_clear_conflict_and_change_nothing(
    factory, app, applicant, org, instructor, state, move
):
    request_id = factory.request(applicant, org, state=state, instructor_id=instructor)
    events_before = event_names(app, request_id)
    with (
        loaded(app, request_id, applicant, instructor) as (request_obj, user, staff),
        pytest.raises(Conflict) as raised,
    ):
        if move == "submit":
            services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        elif move == "archive":
            services.archive_request(request_obj, user)
        elif move == "approve":
            services.approve_request(request_obj, staff)
        elif move == "refuse":
            services.refuse_request(request_obj, staff, "Motif")
        else:
            services.request_changes(request_obj, staff, "Motif")
    assert f"« {move} » impossible depuis l'état « {state} »" in raised.value.message or (
        move == "archive" and "habilitation active" in raised.value.message
    )
    assert state_of(app, request_id) == state
    assert event_names(app, request_id) == events_before


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_stale_lock_version_is_a_conflict(factory, app, applicant, org, instructor, decision):
    request_id = factory.request(applicant, org, state="submitted")
    with loaded(app, request_id, instructor) as (request_obj, staff):
        stale = request_obj.lock_version - 1
        with pytest.raises(Conflict) as raised:
            if decision == "approve":
                services.approve_request(request_obj, staff, None, stale)
            elif decision == "refuse":
                services.refuse_request(request_obj, staff, "Motif", stale)
            else:
                services.request_changes(request_obj, staff, "Motif", stale)
    assert raised.value.message == CHANGED_MEANWHILE
    assert state_of(app, request_id) == "submitted"
    assert event_names(app, request_id) == ["create", "submit"]
    assert authorization_count(app, request_id) == 0


# Two instructors at once, in two threads with their own sessions, on the SQLite file.


def _decide_in_thread(app, request_id, user_id, decision, barrier, outcomes):
    with app.app_context():
        try:
            request_obj = db.session.get(AuthorizationRequest, request_id)
            user = db.session.get(User, user_id)
            version = request_obj.lock_version  # what each instructor's page showed
            barrier.wait(timeout=10)
            if decision == "approve":
                services.approve_request(request_obj, user, "OK", version)
            elif decision == "refuse":
                services.refuse_request(request_obj, user, "Non conforme.", version)
            else:
                services.request_changes(request_obj, user, "Précisez.", version)
            db.session.commit()
            outcomes[decision if decision not in outcomes else decision + "#2"] = "won"
        except Conflict as exc:
            db.session.rollback()
            outcomes[decision if decision not in outcomes else decision + "#2"] = exc.message
        except Exception as exc:  # noqa: BLE001 - reported to the test thread as a failure
            db.session.rollback()
            outcomes[decision if decision not in outcomes else decision + "#2"] = (
                repr(exc) + traceback.format_exc()
            )
        finally:
            db.session.remove()


@pytest.mark.parametrize(
    "decisions",
    [("approve", "approve"), ("approve", "refuse"), ("request_changes", "refuse")],
)
def test_two_instructors_deciding_at_once_one_wins_the_other_gets_a_conflict(
    factory, app, applicant, org, decisions
):
    instructors = [factory.user(roles=(("instructor", "api_particulier"),)) for _ in range(2)]
    request_id = factory.request(applicant, org, state="submitted")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}
    threads = [
        threading.Thread(
            target=_decide_in_thread,
            args=(app, request_id, user_id, decision, barrier, outcomes),
        )
        for user_id, decision in zip(instructors, decisions, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    results = sorted(outcomes.values())
    assert results == sorted(["won", CHANGED_MEANWHILE]), outcomes
    winner = next(k for k, v in outcomes.items() if v == "won").split("#")[0]
    expected_state = {
        "approve": "validated",
        "refuse": "refused",
        "request_changes": "changes_requested",
    }[winner]
    assert state_of(app, request_id) == expected_state
    names = event_names(app, request_id)
    assert sum(name in DECISIONS for name in names) == 1
    assert names.count("issue_authorization") == authorization_count(app, request_id)
    assert authorization_count(app, request_id) == (1 if winner == "approve" else 0)
