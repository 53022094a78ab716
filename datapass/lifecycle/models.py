"""The audit trail: one Event per move of a request or an authorization."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.accounts.models import User
from datapass.extensions import db
from datapass.models_base import UTCDateTime, utcnow

EVENT_LABELS = {
    "create": "Demande créée",
    "submit": "Demande soumise",
    "request_changes": "Modifications demandées",
    "refuse": "Demande refusée",
    "approve": "Demande validée",
    "archive": "Demande archivée",
    "revoke": "Demande révoquée",
    "message": "Message",
    "issue_authorization": "Habilitation délivrée",
    "deprecate_authorization": "Habilitation remplacée par une nouvelle",
    "revoke_authorization": "Habilitation révoquée",
    "reopen": "Demande rouverte pour modification",
    "cancel_reopening": "Réouverture annulée",
    "refuse_reopening": "Modifications refusées (réouverture)",
    "transfer": "Demande transférée",
    "copy": "Demande copiée",
    "start_production": "Demande de production commencée",
    "expire": "Habilitation expirée",
    "remind_expiry": "Rappel : habilitation bientôt expirée",
    "remind_draft": "Rappel : brouillon inactif",
}


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True, nullable=True
    )
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), index=True, nullable=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    from_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # For "submit": {key: [before, after]} against the previous submission.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # "api" when done through API v1 (datapass.api marks it), none from the web pages.
    via: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    user: Mapped[User | None] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.name, self.name)
