"""Instruction tools: message templates per definition and instructors' private notes.

Managers of a definition write its templates; instructors pick one to pre-fill a message or a
decision. Notes (with an optional opinion) are read by the definition's instructors only: they
are neither Events nor messages, so nothing of them reaches the applicant's pages.
Services only flush; the view commits.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import url_for
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.accounts.models import User
from datapass.errors import DomainError, Forbidden
from datapass.extensions import db
from datapass.models_base import UTCDateTime, utcnow
from datapass.requests.models import AuthorizationRequest

# The variables a template may use, written {intitule}, {numero}, {lien}, {organisation}, {api}.
VARIABLES = {
    "intitule": "l'intitulé de la demande",
    "numero": "son numéro",
    "lien": "le lien vers la demande (page du demandeur)",
    "organisation": "le nom de l'organisation",
    "api": "le nom de l'API",
}
VARIABLE = re.compile(r"\{([a-z_]+)\}")
OPINIONS = {"favorable": "Avis favorable", "defavorable": "Avis défavorable", "": "Sans avis"}


class MessageTemplate(db.Model):
    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InstructorNote(db.Model):
    __tablename__ = "instructor_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("authorization_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    opinion: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")

    @property
    def opinion_label(self) -> str:
        return OPINIONS.get(self.opinion, "")


# Templates.


def can_manage_templates(user: User, definition_id: str) -> bool:
    return user.has_role("manager", definition_id)


def _check_template(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise DomainError("Le titre et le texte du modèle sont obligatoires.")
    unknown = sorted(set(VARIABLE.findall(body)) - set(VARIABLES))
    if unknown:
        known = ", ".join(f"{{{v}}}" for v in VARIABLES)
        raise DomainError(
            f"Variable inconnue : {', '.join('{' + u + '}' for u in unknown)}. "
            f"Variables possibles : {known}."
        )
    return title, body


def save_template(
    user: User, definition_id: str, title: str, body: str, template: MessageTemplate | None = None
) -> MessageTemplate:
    """Create (or update) a message template of `definition_id`; managers only."""
    if not can_manage_templates(user, definition_id):
        raise Forbidden("Seuls les responsables de cette API gèrent ses modèles de message.")
    title, body = _check_template(title, body)
    if template is None:
        template = MessageTemplate(definition_id=definition_id, created_by_id=user.id)
        db.session.add(template)
    elif template.definition_id != definition_id:
        raise Forbidden("Ce modèle appartient à une autre API.")
    template.title, template.body = title, body
    db.session.flush()
    return template


def delete_template(user: User, template: MessageTemplate) -> None:
    if not can_manage_templates(user, template.definition_id):
        raise Forbidden("Seuls les responsables de cette API gèrent ses modèles de message.")
    db.session.delete(template)
    db.session.flush()


def templates_for(definition_id: str) -> list[MessageTemplate]:
    return list(
        db.session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.definition_id == definition_id)
            .order_by(MessageTemplate.title, MessageTemplate.id)
        )
    )


def render_template_body(template: MessageTemplate, request_obj: AuthorizationRequest) -> str:
    """The template's text with the request's values in place of its variables."""
    from datapass.catalog import get_definition

    values = {
        "intitule": request_obj.title,
        "numero": str(request_obj.id),
        "lien": url_for("requests.show", request_id=request_obj.id, _external=True),
        "organisation": request_obj.organization.name,
        "api": get_definition(request_obj.definition_id).name,
    }
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), template.body)


# Notes.


def can_read_notes(user: User, request_obj: AuthorizationRequest) -> bool:
    return user.has_role("instructor", request_obj.definition_id)


def add_note(
    request_obj: AuthorizationRequest, user: User, body: str, opinion: str = ""
) -> InstructorNote:
    """A private note of an instructor on a request, with an optional opinion."""
    if not can_read_notes(user, request_obj):
        raise Forbidden("Seuls les instructeurs de cette API écrivent des notes.")
    body = (body or "").strip()
    if not body:
        raise DomainError("La note est vide.")
    if opinion not in OPINIONS:
        raise DomainError("Avis inconnu.")
    note = InstructorNote(request_id=request_obj.id, author_id=user.id, body=body, opinion=opinion)
    db.session.add(note)
    db.session.flush()
    return note


def notes_for(request_obj: AuthorizationRequest, user: User) -> list[InstructorNote]:
    """The notes on a request, for an instructor of its definition; nothing for anyone else."""
    if not can_read_notes(user, request_obj):
        return []
    return list(
        db.session.scalars(
            select(InstructorNote)
            .where(InstructorNote.request_id == request_obj.id)
            .order_by(InstructorNote.id)
        )
    )
