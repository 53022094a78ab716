"""The services that move requests: check who acts, fire the machine, record the event.

Views, the CLI (and later the API) call these and commit once afterwards, so that a state change
and its Event are written together or not at all. Services only flush.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from datapass.accounts.models import Organization, User
from datapass.authorizations.models import Authorization
from datapass.catalog import get_definition
from datapass.errors import CHANGED_MEANWHILE, Conflict, DomainError, Forbidden
from datapass.extensions import db
from datapass.lifecycle.models import Event
from datapass.models_base import utcnow
from datapass.notifications.outbox import queue_notifications, queue_update_webhooks
from datapass.requests.blocks import incomplete_blocks
from datapass.requests.documents import read_pdf, write_file
from datapass.requests.models import AuthorizationRequest, Document, Message
from workflows.loader import Definition
from workflows.machines import AuthorizationFlow, IllegalTransition, RequestFlow


def _ensure(condition: bool, message: str) -> None:
    if not condition:
        raise Forbidden(message)


def _flush() -> None:
    """Flush, turning a lost optimistic-locking race into a clear conflict."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict(CHANGED_MEANWHILE) from exc


def _check_version(request_obj: AuthorizationRequest, expected_version: int | None) -> None:
    if expected_version is not None and request_obj.lock_version != expected_version:
        raise Conflict(CHANGED_MEANWHILE)


def record_event(
    name: str,
    user: User | None,
    *,
    request_obj: AuthorizationRequest | None = None,
    authorization: Authorization | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        name=name,
        user=user,
        request_id=request_obj.id if request_obj else None,
        authorization_id=authorization.id if authorization else None,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        changes=changes,
    )
    db.session.add(event)
    # The emails and webhooks this event calls for, committed with it (transactional outbox).
    queue_notifications(event, request_obj, authorization)
    return event


def _fire(
    request_obj: AuthorizationRequest,
    user: User,
    trigger: str,
    *,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
    **facts: bool,
) -> Event:
    flow = RequestFlow(request_obj.state, **facts)
    before = request_obj.state
    try:
        request_obj.state = flow.fire(trigger)
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from exc
    return record_event(
        trigger,
        user,
        request_obj=request_obj,
        from_state=before,
        to_state=request_obj.state,
        reason=reason,
        changes=changes,
    )


# Permissions, one per action, readable by templates to show or hide buttons.


def can_edit(request_obj: AuthorizationRequest, user: User) -> bool:
    return request_obj.is_editable and request_obj.applicant_id == user.id


def can_instruct(request_obj: AuthorizationRequest, user: User) -> bool:
    return user.has_role("instructor", request_obj.definition_id)


def can_message(request_obj: AuthorizationRequest, user: User) -> bool:
    if not get_definition(request_obj.definition_id).features.messaging:
        return False
    return user.is_member_of(request_obj.organization_id) or can_instruct(request_obj, user)


# Applicant side.


def start_request(user: User, definition: Definition, organization: Organization):
    """Create a draft for `definition`, on behalf of one of the user's organisations."""
    _ensure(user.is_member_of(organization.id), "Vous n'êtes pas membre de cette organisation.")
    _ensure(
        organization.is_active,
        "Cet établissement est fermé selon le répertoire des entreprises : "
        "il ne peut pas déposer de demande.",
    )
    if not definition.public and definition.stage is None:
        raise Forbidden("Cette API n'est pas ouverte aux demandes.")
    request_obj = AuthorizationRequest(
        definition_id=definition.id, organization=organization, applicant=user, data={}
    )
    db.session.add(request_obj)
    _flush()
    record_event("create", user, request_obj=request_obj, to_state="draft")
    _flush()
    return request_obj


def save_step(request_obj: AuthorizationRequest, user: User, data: dict[str, Any]) -> None:
    """Store one step's validated data in the draft."""
    _ensure(can_edit(request_obj, user), "Cette demande ne peut pas être modifiée.")
    request_obj.data.update(data)
    queue_update_webhooks(request_obj, user)
    _flush()


def add_documents(
    request_obj: AuthorizationRequest, user: User, uploads: Iterable[FileStorage]
) -> list[Document]:
    """Attach uploaded PDFs; all are checked before any is stored."""
    from flask import current_app

    _ensure(can_edit(request_obj, user), "Cette demande ne peut pas être modifiée.")
    uploads = [u for u in uploads if u and u.filename]
    limit = current_app.config["MAX_DOCUMENTS"]
    if len(request_obj.documents) + len(uploads) > limit:
        raise DomainError(f"{limit} documents au plus par demande.")
    files = [read_pdf(upload) for upload in uploads]
    documents = []
    for content, filename in files:
        document = Document(
            filename=filename,
            size=len(content),
            sha256=write_file(content),
            uploaded_by_id=user.id,
        )
        request_obj.documents.append(document)
        documents.append(document)
    _flush()
    return documents


def remove_document(request_obj: AuthorizationRequest, user: User, document: Document) -> None:
    _ensure(can_edit(request_obj, user), "Cette demande ne peut pas être modifiée.")
    request_obj.documents.remove(document)
    _flush()


def _changes_since(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    if previous is None:
        return {}
    keys = sorted(set(previous) | set(current))
    return {k: [previous.get(k), current.get(k)] for k in keys if previous.get(k) != current.get(k)}


def submit_request(
    request_obj: AuthorizationRequest, user: User, *, terms_accepted: bool, dpo_informed: bool
) -> Event:
    """Send the request to instruction; it must be complete and the terms accepted."""
    _ensure(request_obj.applicant_id == user.id, "Seul le demandeur peut soumettre la demande.")
    from datapass.lifecycle import reopening  # here: it imports this module

    definition = get_definition(request_obj.definition_id)
    snapshot = dict(request_obj.data)
    snapshot["documents"] = [d.snapshot() for d in request_obj.documents]
    event = _fire(
        request_obj,
        user,
        "submit",
        changes=_changes_since(request_obj.submitted_data, snapshot),
        is_complete=not incomplete_blocks(definition, request_obj),
        terms_accepted=terms_accepted and dpo_informed,
        has_changes=reopening.has_changes(request_obj),
    )
    request_obj.terms_accepted = request_obj.dpo_informed = True
    request_obj.submitted_data = snapshot
    request_obj.submitted_at = utcnow()
    _flush()
    return event


def archive_request(request_obj: AuthorizationRequest, user: User) -> Event:
    from datapass.lifecycle import reopening  # here: it imports this module

    _ensure(request_obj.applicant_id == user.id, "Seul le demandeur peut archiver la demande.")
    if reopening.is_reopening(request_obj):
        raise Conflict("Une réouverture est en cours : annulez-la plutôt que d'archiver.")
    active = db.session.query(
        db.session.query(Authorization)
        .filter_by(request_id=request_obj.id, state="active")
        .exists()
    ).scalar()
    event = _fire(request_obj, user, "archive", has_active_authorization=bool(active))
    _flush()
    return event


def post_message(request_obj: AuthorizationRequest, user: User, body: str) -> Message:
    _ensure(can_message(request_obj, user), "La messagerie n'est pas ouverte pour cette demande.")
    body = body.strip()
    if not body:
        raise DomainError("Le message est vide.")
    message = Message(
        request_id=request_obj.id,
        author=user,
        body=body,
        from_instructor=not user.is_member_of(request_obj.organization_id),
    )
    db.session.add(message)
    record_event("message", user, request_obj=request_obj, reason=body)
    _flush()
    return message


# Instructor side.


def _decide(request_obj, user, expected_version) -> None:
    _ensure(can_instruct(request_obj, user), "Vous n'instruisez pas cette API.")
    _check_version(request_obj, expected_version)


def request_changes(
    request_obj: AuthorizationRequest, user: User, reason: str, expected_version: int | None = None
) -> Event:
    _decide(request_obj, user, expected_version)
    reason = (reason or "").strip()
    event = _fire(request_obj, user, "request_changes", reason=reason, has_reason=bool(reason))
    request_obj.decided_at = utcnow()
    _flush()
    return event


def refuse_request(
    request_obj: AuthorizationRequest, user: User, reason: str, expected_version: int | None = None
) -> Event:
    from datapass.lifecycle import reopening  # here: it imports this module

    if reopening.is_reopening(request_obj):  # the previous data comes back, still validated
        return reopening.refuse_reopening(request_obj, user, reason, expected_version)
    _decide(request_obj, user, expected_version)
    reason = (reason or "").strip()
    event = _fire(request_obj, user, "refuse", reason=reason, has_reason=bool(reason))
    request_obj.decided_at = utcnow()
    _flush()
    return event


def approve_request(
    request_obj: AuthorizationRequest,
    user: User,
    message: str | None = None,
    expected_version: int | None = None,
) -> Authorization:
    """Validate the request and issue an Authorization: a frozen snapshot of what was approved."""
    from datapass.lifecycle import reopening  # here: it imports this module

    _decide(request_obj, user, expected_version)
    _fire(request_obj, user, "approve", reason=(message or "").strip() or None)
    request_obj.decided_at = utcnow()
    _flush()  # a lost race is a clear conflict here, before the queries below autoflush it
    reopening.close_reopening(request_obj, "approved")
    for previous in db.session.scalars(
        db.select(Authorization).filter_by(request_id=request_obj.id, state="active")
    ):
        previous.state = AuthorizationFlow(previous.state).fire("deprecate")
        record_event(
            "deprecate_authorization",
            user,
            request_obj=request_obj,
            authorization=previous,
            from_state="active",
            to_state=previous.state,
        )
    data = dict(request_obj.data)
    authorization = Authorization(
        request_id=request_obj.id,
        definition_id=request_obj.definition_id,
        organization_id=request_obj.organization_id,
        applicant_id=request_obj.applicant_id,
        data=data,
        scopes=list(data.get("scopes", [])),
        documents=[d.snapshot() for d in request_obj.documents],
    )
    db.session.add(authorization)
    _flush()
    record_event(
        "issue_authorization",
        user,
        request_obj=request_obj,
        authorization=authorization,
        to_state="active",
    )
    from datapass.oauth.services import issue_credential  # here: oauth imports this module

    issue_credential(authorization, user)
    _flush()
    return authorization
