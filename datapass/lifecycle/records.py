"""What the lifecycle keeps beside requests: reopenings, where a request came from, reminders.

Plain models with no service import, so that `datapass.models` (and Alembic) can load them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from datapass.extensions import db
from datapass.models_base import UTCDateTime, utcnow

# How a reopening ended.
REOPENING_OUTCOMES = ("approved", "refused", "cancelled", "revoked")


class Reopening(db.Model):
    """A validated request reopened to change it; open while `ended_at` is None.

    It keeps what the request held when it was reopened, so that refusing or cancelling the
    reopening puts that back exactly (the active authorization is left untouched meanwhile).
    """

    __tablename__ = "reopenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True
    )
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorizations.id"), nullable=True
    )
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    previous_data: Mapped[dict[str, Any]] = mapped_column(JSON)
    previous_documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    previous_submitted_data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


# Kinds of request origin.
COPY, STAGE = "copy", "stage"


class RequestOrigin(db.Model):
    """A request made from another one: a copy, or the production stage of a sandbox request."""

    __tablename__ = "request_origins"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), unique=True
    )
    source_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="SET NULL"), index=True, nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Kinds of reminder.
EXPIRY_REMINDER, DRAFT_REMINDER = "expiry", "draft"


class Reminder(db.Model):
    """A reminder sent (expiry of an authorization, stale draft), so that it goes out once."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True, nullable=True
    )
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), index=True, nullable=True
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
