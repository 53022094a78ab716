"""Reopening a validated request to change it.

The applicant reopens (when the definition allows it): the request goes back to a draft while
its authorization stays active and its credential keeps working. The reopened request is
instructed again: validating it issues a new authorization (the previous one becomes obsolete,
the credential takes the new scopes); refusing it, or cancelling the reopening (applicant or
instructor, with a reason), restores what the request held and leaves the authorization alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from datapass.accounts.models import User
from datapass.authorizations.models import Authorization
from datapass.catalog import get_definition
from datapass.errors import Forbidden
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.lifecycle.models import Event
from datapass.lifecycle.records import Reopening
from datapass.models_base import utcnow
from datapass.requests.models import AuthorizationRequest, Document


def open_reopening(request_obj: AuthorizationRequest) -> Reopening | None:
    """The reopening in progress on this request, if any."""
    # No autoflush: asked in the middle of a decision, it must not flush the state change
    # (the service's own flush turns a lost race into a clear conflict).
    with db.session.no_autoflush:
        return db.session.scalar(
            select(Reopening)
            .where(Reopening.request_id == request_obj.id, Reopening.ended_at.is_(None))
            .order_by(Reopening.id.desc())
        )


def is_reopening(request_obj: AuthorizationRequest) -> bool:
    return open_reopening(request_obj) is not None


def latest_authorization(request_obj: AuthorizationRequest) -> Authorization | None:
    return db.session.scalar(
        select(Authorization)
        .where(Authorization.request_id == request_obj.id)
        .order_by(Authorization.id.desc())
    )


def active_authorization(request_obj: AuthorizationRequest) -> Authorization | None:
    return db.session.scalar(
        select(Authorization).where(
            Authorization.request_id == request_obj.id, Authorization.state == "active"
        )
    )


def can_reopen(request_obj: AuthorizationRequest, user: User) -> bool:
    return (
        request_obj.state == "validated"
        and request_obj.applicant_id == user.id
        and get_definition(request_obj.definition_id).features.reopening
    )


def can_cancel_reopening(request_obj: AuthorizationRequest, user: User) -> bool:
    return (request_obj.applicant_id == user.id or services.can_instruct(request_obj, user)) and (
        request_obj.state in ("draft", "submitted", "changes_requested")
        and is_reopening(request_obj)
    )


def reopen_request(request_obj: AuthorizationRequest, user: User) -> Event:
    """Put a validated request back into a draft, remembering what it held."""
    if request_obj.applicant_id != user.id:
        raise Forbidden("Seul le demandeur peut rouvrir la demande.")
    definition = get_definition(request_obj.definition_id)
    authorization = latest_authorization(request_obj)
    event = services._fire(
        request_obj, user, "reopen", reopening_allowed=definition.features.reopening
    )
    db.session.add(
        Reopening(
            request_id=request_obj.id,
            authorization_id=authorization.id if authorization else None,
            started_by_id=user.id,
            previous_data=dict(request_obj.data),
            previous_documents=[d.snapshot() for d in request_obj.documents],
            previous_submitted_data=request_obj.submitted_data,
        )
    )
    services._flush()
    return event


def _document_keys(snapshots: list[dict[str, Any]]) -> list[tuple[str, str]]:
    # Documents compare by name and content: a restore recreates rows with new ids.
    return sorted((s["filename"], s["sha256"]) for s in snapshots)


def reopening_changes(request_obj: AuthorizationRequest) -> dict[str, Any]:
    """What the reopened request changes against what was validated ({key: [before, after]})."""
    reopening = open_reopening(request_obj)
    if reopening is None:
        return {}
    before, after = reopening.previous_data, dict(request_obj.data)
    changes = {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }
    old_docs = _document_keys(reopening.previous_documents)
    new_docs = _document_keys([d.snapshot() for d in request_obj.documents])
    if old_docs != new_docs:
        changes["documents"] = [[n for n, _ in old_docs], [n for n, _ in new_docs]]
    return changes


def has_changes(request_obj: AuthorizationRequest) -> bool:
    """False only for a reopening that changes nothing: it cannot be submitted. Renewing an
    authorization that expired is the exception: the same content may be asked again."""
    if open_reopening(request_obj) is None or active_authorization(request_obj) is None:
        return True
    return bool(reopening_changes(request_obj))


def _restore(request_obj: AuthorizationRequest, reopening: Reopening) -> None:
    request_obj.data = dict(reopening.previous_data)
    wanted = _document_keys(reopening.previous_documents)
    for document in list(request_obj.documents):
        key = (document.filename, document.sha256)
        if key in wanted:
            wanted.remove(key)
        else:
            request_obj.documents.remove(document)
    for snapshot in reopening.previous_documents:
        key = (snapshot["filename"], snapshot["sha256"])
        if key in wanted:
            wanted.remove(key)
            request_obj.documents.append(
                Document(
                    filename=snapshot["filename"],
                    size=snapshot["size"],
                    sha256=snapshot["sha256"],
                    uploaded_by_id=request_obj.applicant_id,
                )
            )
    request_obj.submitted_data = reopening.previous_submitted_data


def close_reopening(request_obj: AuthorizationRequest, outcome: str) -> Reopening | None:
    """End the reopening in progress (a validation, a revocation…); no restore."""
    reopening = open_reopening(request_obj)
    if reopening is not None:
        reopening.ended_at = utcnow()
        reopening.outcome = outcome
    return reopening


def cancel_reopening(
    request_obj: AuthorizationRequest, user: User, reason: str, *, outcome: str = "cancelled"
) -> Event:
    """Give up a reopening: the request is validated again, with the data it had."""
    if not (request_obj.applicant_id == user.id or services.can_instruct(request_obj, user)):
        raise Forbidden("Seuls le demandeur et les instructeurs peuvent annuler la réouverture.")
    reopening = open_reopening(request_obj)
    reason = (reason or "").strip()
    event = services._fire(
        request_obj,
        user,
        "cancel_reopening",
        reason=reason,
        has_reason=bool(reason),
        is_reopening=reopening is not None,
    )
    _restore(request_obj, reopening)
    close_reopening(request_obj, outcome)
    services._flush()
    return event


def refuse_reopening(
    request_obj: AuthorizationRequest, user: User, reason: str, expected_version: int | None = None
) -> Event:
    """An instructor refuses the changes: the previous data comes back, the authorization stays."""
    services._decide(request_obj, user, expected_version)
    reopening = open_reopening(request_obj)
    reason = (reason or "").strip()
    event = services._fire(
        request_obj,
        user,
        "refuse_reopening",
        reason=reason,
        has_reason=bool(reason),
        is_reopening=reopening is not None,
    )
    request_obj.decided_at = utcnow()
    _restore(request_obj, reopening)
    close_reopening(request_obj, "refused")
    services._flush()
    return event
