"""When each staff member last opened a request: the "unread messages" badge and filter.

A message is unread for an instructor when it comes from the applicant's side and is newer than
the instructor's last visit of the request page (or the instructor never opened it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Select, and_, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from datapass.extensions import db
from datapass.models_base import UTCDateTime, utcnow
from datapass.requests.models import AuthorizationRequest, Message


class RequestRead(db.Model):
    __tablename__ = "request_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def mark_read(user_id: int, request_id: int) -> None:
    """Record that the user has just seen the request and its messages (flushes only)."""
    read = db.session.get(RequestRead, (user_id, request_id))
    if read is None:
        db.session.add(RequestRead(user_id=user_id, request_id=request_id, read_at=utcnow()))
    else:
        read.read_at = utcnow()
    db.session.flush()


def _unread_messages(user_id: int) -> Select:
    """Request ids of the messages from the applicant's side that the user has not seen."""
    return (
        select(Message.request_id)
        .outerjoin(
            RequestRead,
            and_(RequestRead.request_id == Message.request_id, RequestRead.user_id == user_id),
        )
        .where(
            Message.from_instructor.is_(False),
            or_(RequestRead.read_at.is_(None), Message.created_at > RequestRead.read_at),
        )
    )


def has_unread_messages(user_id: int):
    """A condition on AuthorizationRequest: it has messages the user has not seen."""
    return AuthorizationRequest.id.in_(_unread_messages(user_id))


def unread_counts(user_id: int, request_ids: list[int]) -> dict[int, int]:
    """Unread messages per request, for the requests of one page of the queue."""
    if not request_ids:
        return {}
    query = (
        _unread_messages(user_id)
        .add_columns(func.count())
        .where(Message.request_id.in_(request_ids))
        .group_by(Message.request_id)
    )
    return dict(db.session.execute(query).all())
