"""The outbox (what must be sent, written with the state change), opt-outs and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.lifecycle.models import Event
from datapass.models_base import UTCDateTime, utcnow

EMAIL, WEBHOOK = "email", "webhook"
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATE_LABELS = {PENDING: "En attente", SENDING: "En cours", SENT: "Envoyée", FAILED: "En échec"}


class OutboxMessage(db.Model):
    """One notification to deliver: an email to one address or a POST to one webhook.

    Written in the transaction of the state change it announces; `idempotency_key` (unique per
    event, channel and recipient) becomes the email's Message-ID and the webhook's `webhook-id`.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (UniqueConstraint("event_id", "channel", "recipient", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True, nullable=True
    )
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(50))  # the email template or the webhook event
    recipient: Mapped[str] = mapped_column(String(255))  # an address, or a webhook id
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True, nullable=True
    )
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    event: Mapped[Event | None] = relationship()

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


class EmailOptOut(db.Model):
    """An instructor who no longer wants submit/message emails for one definition."""

    __tablename__ = "email_opt_outs"
    __table_args__ = (UniqueConstraint("user_id", "definition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    definition_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Webhook(db.Model):
    """A producer's endpoint for the events of one definition.

    The secret must be usable to sign, so it is stored encrypted (Fernet, key derived from
    NOTIFICATIONS_ENCRYPTION_KEY or SECRET_KEY), never in clear, and shown once.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(100), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    attempts: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="webhook",
        order_by="WebhookAttempt.id.desc()",
        cascade="all, delete-orphan",
        lazy="select",
    )


class WebhookAttempt(db.Model):
    """One POST to a webhook: what came back and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), nullable=True
    )
    event: Mapped[str] = mapped_column(String(50))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True, nullable=True
    )
    # DataPass compatibility: the producer's own reference, from its reply to `approve`.
    token_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    webhook: Mapped[Webhook] = relationship(back_populates="attempts")
