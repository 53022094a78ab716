"""Authorizations ("habilitations"): frozen snapshots of validated requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.accounts.models import Organization
from datapass.extensions import db
from datapass.models_base import UTCDateTime, utcnow
from datapass.requests.models import AuthorizationRequest

STATE_LABELS = {
    "active": "Active",
    "obsolete": "Obsolète",
    "revoked": "Révoquée",
    "expired": "Expirée",
}


class Authorization(db.Model):
    __tablename__ = "authorizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("authorization_requests.id"), index=True)
    definition_id: Mapped[str] = mapped_column(String(100), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default="active", index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    request: Mapped[AuthorizationRequest] = relationship(lazy="joined")
    organization: Mapped[Organization] = relationship(lazy="joined")

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]
