"""Deliver outbox rows: claim one, send it, record the outcome. Run by the worker's tasks.

At-least-once with idempotency: a row is claimed by a conditional UPDATE (so two copies of a
task cannot both send it), marked sent right after the send, and never sent again once sent.
A failure sets the next attempt with exponential backoff and jitter; the last one leaves the
row failed, listed for an admin to replay.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from datapass.extensions import db
from datapass.models_base import utcnow
from datapass.notifications import emails, webhooks
from datapass.notifications.models import (
    EMAIL,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    OutboxMessage,
    Webhook,
    WebhookAttempt,
)

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # "sent", "skipped", "retry" or "failed"
    delay: float = 0.0


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with jitter (half to full)."""
    config = current_app.config
    delay = min(
        config["NOTIFICATION_RETRY_MAX"], config["NOTIFICATION_RETRY_BASE"] * 2 ** (attempt - 1)
    )
    return random.uniform(delay / 2, delay)


def _claim(outbox_id: int) -> bool:
    now = utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE"])
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            or_(
                and_(
                    OutboxMessage.state == PENDING,
                    or_(
                        OutboxMessage.next_attempt_at.is_(None),
                        OutboxMessage.next_attempt_at <= now + timedelta(seconds=1),
                    ),
                ),
                # A worker died while sending: its claim lapses after the lease.
                and_(OutboxMessage.state == SENDING, OutboxMessage.claimed_at < now - lease),
            ),
        )
        .values(state=SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def deliver(outbox_id: int) -> Outcome:
    """Send one outbox row if it is due and not already sent or being sent."""
    if not _claim(outbox_id):
        return Outcome("skipped")
    row = db.session.get(OutboxMessage, outbox_id)
    try:
        if row.channel == EMAIL:
            emails.send(emails.compose(row))
        else:
            _deliver_webhook(row)
    except Exception as exc:
        db.session.rollback()
        row = db.session.get(OutboxMessage, outbox_id)
        row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
        if row.attempts >= current_app.config["NOTIFICATION_MAX_ATTEMPTS"]:
            row.state = FAILED
            row.next_attempt_at = None
            db.session.commit()
            log.error("outbox %s failed for good: %s", outbox_id, row.last_error)
            return Outcome("failed")
        delay = backoff(row.attempts)
        row.state = PENDING
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        db.session.commit()
        log.warning("outbox %s attempt %s failed, retry in %.1fs", outbox_id, row.attempts, delay)
        return Outcome("retry", delay)
    row.state = SENT
    row.sent_at = utcnow()
    row.last_error = None
    db.session.commit()
    return Outcome("sent")


def due_ids(limit: int = 200) -> list[int]:
    """Committed rows the relay must (re)enqueue: new, due for a retry, or whose worker died."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE"])
    stale = now - lease
    query = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(
                    OutboxMessage.state == PENDING,
                    or_(
                        OutboxMessage.next_attempt_at.is_(None),
                        OutboxMessage.next_attempt_at <= now,
                    ),
                    # The after-commit kick enqueued it already, unless that was long ago.
                    or_(OutboxMessage.enqueued_at.is_(None), OutboxMessage.enqueued_at < stale),
                    or_(
                        OutboxMessage.enqueued_at.is_not(None),
                        OutboxMessage.created_at
                        < now - timedelta(seconds=min(5.0, lease.total_seconds())),
                    ),
                ),
                and_(OutboxMessage.state == SENDING, OutboxMessage.claimed_at < stale),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def mark_enqueued(ids: list[int]) -> None:
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(enqueued_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def replay(outbox_id: int) -> bool:
    """Put a failed row back in the queue (fresh attempts); False if it is not failed."""
    row = db.session.get(OutboxMessage, outbox_id)
    if row is None or row.state != FAILED:
        return False
    row.state = PENDING
    row.attempts = 0
    row.next_attempt_at = None
    row.enqueued_at = None
    return True


# Webhooks.


def webhook_payload(row: OutboxMessage) -> dict:
    from datapass.authorizations.models import Authorization
    from datapass.requests.models import AuthorizationRequest

    context = row.context
    request_obj = db.session.get(AuthorizationRequest, context["request_id"])
    authorization = None
    if request_obj is not None:
        authorization = db.session.scalar(
            select(Authorization)
            .filter_by(request_id=request_obj.id)
            .order_by(Authorization.id.desc())
            .limit(1)
        )
    return {
        "event": row.kind,
        "fired_at": row.created_at.isoformat(),
        "model_type": "authorization_request",
        "data": _request_json(request_obj, authorization) if request_obj else None,
    }


def _iso(value):
    return value.isoformat() if value else None


def _request_json(request_obj, authorization) -> dict:
    return {
        "id": request_obj.id,
        "definition_id": request_obj.definition_id,
        "state": request_obj.state,
        "organization": {
            "siret": request_obj.organization.siret,
            "name": request_obj.organization.name,
        },
        "applicant": {
            "email": request_obj.applicant.email,
            "given_name": request_obj.applicant.given_name,
            "family_name": request_obj.applicant.family_name,
        },
        "data": request_obj.data,
        "submitted_at": _iso(request_obj.submitted_at),
        "decided_at": _iso(request_obj.decided_at),
        "authorization": None
        if authorization is None
        else {
            "id": authorization.id,
            "state": authorization.state,
            "scopes": authorization.scopes,
            "created_at": _iso(authorization.created_at),
            "revoked_at": _iso(authorization.revoked_at),
        },
    }


class WebhookFailed(Exception):
    pass


def call_webhook(
    hook: Webhook, event: str, message_id: str, payload: dict, outbox_id=None, request_id=None
):
    """POST to `hook`, record the attempt and the failure count; the Response."""
    response = webhooks.post(
        hook.url, webhooks.decrypt_secret(hook.secret_encrypted), message_id, payload
    )
    db.session.add(
        WebhookAttempt(
            webhook_id=hook.id,
            outbox_id=outbox_id,
            event=event,
            status_code=response.status_code,
            response_excerpt=response.body[:2000],
            error=response.error,
            duration_ms=response.duration_ms,
            success=response.ok,
            request_id=request_id,
            token_id=_token_id(response) if event == "approve" else None,
        )
    )
    if response.ok:
        hook.consecutive_failures = 0
    else:
        hook.consecutive_failures += 1
    return response


def _token_id(response) -> str | None:
    """DataPass compatibility: a reply `{"token_id": ...}` to approve is the producer's own
    reference for the request."""
    if not response.ok:
        return None
    try:
        body = json.loads(response.body)
    except ValueError:
        return None
    token = body.get("token_id") if isinstance(body, dict) else None
    if isinstance(token, str | int) and not isinstance(token, bool):
        return str(token)[:255]
    return None


def producer_reference(request_id: int) -> str | None:
    """The latest token_id a producer returned for this request (shown to the applicant)."""
    return db.session.scalar(
        select(WebhookAttempt.token_id)
        .where(WebhookAttempt.request_id == request_id, WebhookAttempt.token_id.is_not(None))
        .order_by(WebhookAttempt.id.desc())
        .limit(1)
    )


def _deliver_webhook(row: OutboxMessage) -> None:
    hook = db.session.get(Webhook, row.webhook_id)
    if hook is None or not hook.enabled:
        return  # deleted or disabled since: nothing to send
    response = call_webhook(
        hook,
        row.kind,
        row.idempotency_key,
        webhook_payload(row),
        outbox_id=row.id,
        request_id=row.context.get("request_id"),
    )
    if not response.ok and hook.consecutive_failures >= current_app.config["WEBHOOK_MAX_FAILURES"]:
        hook.enabled = False
        _tell_owners_disabled(hook)
    db.session.commit()  # the attempt is kept even when the delivery failed
    if not response.ok:
        raise WebhookFailed(response.error or f"HTTP {response.status_code}")


def _tell_owners_disabled(hook: Webhook) -> None:
    """Email the developers of the definition that the webhook is now disabled."""
    from datapass.accounts.models import Role, User
    from datapass.catalog import get_definition

    owners = db.session.scalars(
        select(User)
        .join(Role, Role.user_id == User.id)
        .where(Role.role == "developer", Role.definition_id == hook.definition_id)
    ).unique()
    for owner in owners:
        db.session.add(
            OutboxMessage(
                idempotency_key=uuid.uuid4().hex,
                channel=EMAIL,
                kind="webhook_disabled",
                recipient=owner.email.lower(),
                context={
                    "url": hook.url,
                    "definition_id": hook.definition_id,
                    "definition_name": get_definition(hook.definition_id).name,
                    "failures": hook.consecutive_failures,
                    "webhook_id": hook.id,
                },
            )
        )
