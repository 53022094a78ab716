"""Authorization requests ("demandes"), their documents and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.accounts.models import Organization, User
from datapass.extensions import db
from datapass.models_base import UTCDateTime, utcnow

STATE_LABELS = {
    "draft": "Brouillon",
    "submitted": "En cours d'instruction",
    "changes_requested": "Modifications demandées",
    "validated": "Validée",
    "refused": "Refusée",
    "archived": "Archivée",
    "revoked": "Révoquée",
}
STATE_BADGES = {
    "draft": "info",
    "submitted": "new",
    "changes_requested": "warning",
    "validated": "success",
    "refused": "error",
    "archived": "",
    "revoked": "error",
}


class AuthorizationRequest(db.Model):
    """A request for access to one definition, made by an applicant for an organisation.

    `state` is written only through `workflows.machines.RequestFlow` (see datapass.lifecycle);
    `lock_version` makes concurrent decisions fail instead of overwriting each other.
    """

    __tablename__ = "authorization_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(100), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    data: Mapped[dict[str, Any]] = mapped_column(MutableDict.as_mutable(JSON), default=dict)
    # What the request held at its last submission, to show instructors what changed since.
    submitted_data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    terms_accepted: Mapped[bool] = mapped_column(default=False)
    dpo_informed: Mapped[bool] = mapped_column(default=False)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    organization: Mapped[Organization] = relationship(lazy="joined")
    applicant: Mapped[User] = relationship(lazy="joined")
    documents: Mapped[list[Document]] = relationship(
        back_populates="request", order_by="Document.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def title(self) -> str:
        return self.data.get("intitule") or f"Demande n°{self.id}"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def state_badge(self) -> str:
        return STATE_BADGES[self.state]

    @property
    def is_editable(self) -> bool:
        return self.state in ("draft", "changes_requested")


class Document(db.Model):
    """A PDF attached to a request (legal basis text…); the file lives in UPLOAD_DIR by hash."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(50), default="legal_basis")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[AuthorizationRequest] = relationship(back_populates="documents")

    def snapshot(self) -> dict[str, Any]:
        return {"id": self.id, "filename": self.filename, "size": self.size, "sha256": self.sha256}


class Message(db.Model):
    """A message between the applicant's side and the instructors of a request."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    from_instructor: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")
