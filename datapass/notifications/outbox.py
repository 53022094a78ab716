"""Write what must be sent (outbox rows) in the transaction of the state change.

`queue_notifications` is called by datapass.lifecycle for every Event: it decides who hears of
it (emails, French) and which producer webhooks subscribe to it. Nothing is sent here: rows are
delivered by the worker once committed (after-commit kick, and the periodic relay).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from datapass.accounts.models import Role, User
from datapass.extensions import db
from datapass.notifications.models import EMAIL, WEBHOOK, EmailOptOut, OutboxMessage, Webhook

log = logging.getLogger(__name__)

# Events a producer webhook may subscribe to (DataPass's list).
WEBHOOK_EVENTS = (
    "create",
    "update",
    "submit",
    "approve",
    "refuse",
    "request_changes",
    "revoke",
    "archive",
    "reopen",
    "transfer",
)
DECISIONS = ("request_changes", "refuse", "approve", "revoke")
# Lifecycle events only the applicant hears about (the reason or detail is in the email).
APPLICANT_ONLY = ("refuse_reopening", "cancel_reopening", "expire", "remind_expiry", "remind_draft")
# Emails an instructor may turn off per definition (and unsubscribe from in one click).
OPTIONAL_FOR_INSTRUCTORS = ("submit", "message")


def instructors_of(definition_id: str) -> list[User]:
    """Instructors (and managers) of a definition; admins only through an explicit role."""
    users = db.session.scalars(
        select(User)
        .join(Role, Role.user_id == User.id)
        .where(Role.role.in_(("manager", "instructor")))
        .options(selectinload(User.roles))
    ).unique()
    found = []
    for user in users:
        for role in user.roles:
            if role.role not in ("manager", "instructor"):
                continue
            covered = (
                role.definition_ids() if hasattr(role, "definition_ids") else {role.definition_id}
            )
            if definition_id in covered:
                found.append(user)
                break
    return sorted(found, key=lambda u: u.id)


def _context(event, request_obj, authorization) -> dict[str, Any]:
    from datapass.catalog import get_definition

    definition = get_definition(request_obj.definition_id)
    return {
        "event": event.name,
        "request_id": request_obj.id,
        "request_title": request_obj.title,
        "definition_id": definition.id,
        "definition_name": definition.name,
        "organization_name": request_obj.organization.name,
        "applicant_name": request_obj.applicant.full_name,
        "actor_name": event.user.full_name if event.user else None,
        "reason": event.reason,
        "authorization_id": authorization.id if authorization else None,
    }


def _email(event, kind: str, address: str, context: dict, user: User | None = None) -> None:
    if not address:
        return
    db.session.add(
        OutboxMessage(
            idempotency_key=uuid.uuid4().hex,
            event=event,
            channel=EMAIL,
            kind=kind,
            recipient=address.strip().lower(),
            context={**context, "user_id": user.id if user else None},
        )
    )


_NOTIFIED_KEY = "datapass_notified"


def _notified_name(event, request_obj) -> str | None:
    """The notification an event stands for, once per transaction and request.

    Revoking records "revoke_authorization" and often "revoke" on the request too (or only the
    latter when no authorization is active): both announce one revocation.
    """
    name = "revoke" if event.name == "revoke_authorization" else event.name
    if name == "revoke":
        done = db.session.info.setdefault(_NOTIFIED_KEY, set())
        if (request_obj.id, name) in done:
            return None
        done.add((request_obj.id, name))
    return name


def _email_recipients(name, event, request_obj) -> list[tuple[str, str, User | None]]:
    """(kind, address, user) for the emails `event` sends; a kind names its template."""
    applicant = request_obj.applicant
    out: list[tuple[str, str, User | None]] = []
    if name == "submit":
        out.append(("submit_applicant", applicant.email, applicant))
        out += [("submit_instructor", u.email, u) for u in _instructors_to_tell(request_obj)]
    elif name in DECISIONS:
        out.append((f"{name}_applicant", applicant.email, applicant))
        if name == "approve":
            data = request_obj.data
            for prefix in ("delegue_protection_donnees", "responsable_traitement"):
                address = data.get(f"{prefix}_email")
                if address and address.lower() != applicant.email.lower():
                    out.append((f"approve_{prefix}", address, None))
    elif name in APPLICANT_ONLY or (name == "archive" and event.user is None):
        # A draft archived by the lifecycle sweep, not by its applicant, is announced.
        out.append((f"{name}_applicant", applicant.email, applicant))
    elif name == "message":
        if event.user is not None and event.user.is_member_of(request_obj.organization_id):
            out += [("message_instructor", u.email, u) for u in _instructors_to_tell(request_obj)]
        else:
            out.append(("message_applicant", applicant.email, applicant))
    elif name == "transfer":
        old_id, new_id = (event.changes or {}).get("applicant_id", [None, None])
        for user_id in (old_id, new_id):
            user = db.session.get(User, user_id) if user_id else None
            if user is not None:
                out.append(("transfer_applicant", user.email, user))
    seen: set[str] = set()
    unique = []
    for kind, address, user in out:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            unique.append((kind, address, user))
    return unique


def _instructors_to_tell(request_obj) -> list[User]:
    """Instructors of the request's API who did not opt out of its emails (two queries)."""
    definition_id = request_obj.definition_id
    opted_out = set(
        db.session.scalars(select(EmailOptOut.user_id).filter_by(definition_id=definition_id))
    )
    return [u for u in instructors_of(definition_id) if u.id not in opted_out]


def queue_notifications(event, request_obj=None, authorization=None) -> None:
    """Add the outbox rows `event` calls for; the caller's transaction commits them."""
    if request_obj is None and authorization is not None:
        request_obj = authorization.request if hasattr(authorization, "request") else None
    if request_obj is None:
        return
    # No autoflush: the service flushes the state change itself (and turns a lost race into
    # a clear conflict); the lookups below must not flush it earlier.
    with db.session.no_autoflush:
        _queue(event, request_obj, authorization)


def _queue(event, request_obj, authorization) -> None:
    name = _notified_name(event, request_obj)
    if name is None:
        return
    context = {**_context(event, request_obj, authorization), "event": name}
    for kind, address, user in _email_recipients(name, event, request_obj):
        _email(event, kind, address, context, user)
    if name in WEBHOOK_EVENTS:
        hooks = db.session.scalars(
            select(Webhook).filter_by(definition_id=request_obj.definition_id, enabled=True)
        )
        for hook in hooks:
            if name in hook.events:
                db.session.add(
                    OutboxMessage(
                        idempotency_key=uuid.uuid4().hex,
                        event=event,
                        channel=WEBHOOK,
                        kind=name,
                        recipient=str(hook.id),
                        webhook_id=hook.id,
                        context=context,
                    )
                )


def queue_update_webhooks(request_obj, user) -> None:
    """The "update" webhooks of a saved draft step. Saving is not an audit Event (the trail
    records submissions and decisions), so these rows carry no event; the payload is built at
    delivery from the request as it then is."""
    from datapass.catalog import get_definition

    hooks = [
        hook
        for hook in db.session.scalars(
            select(Webhook).filter_by(definition_id=request_obj.definition_id, enabled=True)
        )
        if "update" in hook.events
    ]
    if not hooks:
        return
    definition = get_definition(request_obj.definition_id)
    context = {
        "event": "update",
        "request_id": request_obj.id,
        "request_title": request_obj.title,
        "definition_id": definition.id,
        "definition_name": definition.name,
        "actor_name": user.full_name,
    }
    for hook in hooks:
        db.session.add(
            OutboxMessage(
                idempotency_key=uuid.uuid4().hex,
                channel=WEBHOOK,
                kind="update",
                recipient=str(hook.id),
                webhook_id=hook.id,
                context=context,
            )
        )


# After commit: enqueue the rows this transaction wrote (the relay catches any missed).

_PENDING_KEY = "datapass_outbox_ids"


def _after_flush(session, flush_context) -> None:
    ids = session.info.setdefault(_PENDING_KEY, set())
    for obj in session.new:
        if isinstance(obj, OutboxMessage):
            ids.add(obj.id)  # assigned by this flush; the object expires on commit


def _after_commit(session) -> None:
    session.info.pop(_NOTIFIED_KEY, None)
    ids = sorted(session.info.pop(_PENDING_KEY, set()))
    if ids:
        kick(ids)


def _after_rollback(session) -> None:
    session.info.pop(_NOTIFIED_KEY, None)
    session.info.pop(_PENDING_KEY, None)


def kick(ids: list[int]) -> None:
    """Enqueue delivery tasks now; a broker outage only delays them until the relay runs."""
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    celery_app = app.extensions.get("celery")
    if celery_app is None or not app.config["OUTBOX_KICK"]:
        return
    try:
        with celery_app.connection_for_write() as connection:
            # One quick try: a user's request must not wait for a broker that is down.
            connection.ensure_connection(max_retries=1, timeout=2)
            for outbox_id in ids:
                celery_app.send_task(
                    "worker.tasks.deliver_outbox",
                    args=[outbox_id],
                    connection=connection,
                    retry=False,
                )
    except Exception as exc:  # the broker is down: the relay will send the committed rows
        log.warning("outbox: could not enqueue %s (%s); the relay will", ids, exc)


def init_session_events() -> None:
    if not sa_event.contains(db.session, "after_flush", _after_flush):
        sa_event.listen(db.session, "after_flush", _after_flush)
        sa_event.listen(db.session, "after_commit", _after_commit)
        sa_event.listen(db.session, "after_rollback", _after_rollback)
