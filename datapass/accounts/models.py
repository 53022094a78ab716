"""Users, organisations (SIRET), memberships and roles on definitions."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.extensions import db
from datapass.models_base import UTCDateTime, utcnow

# A role on a definition; each implies the ones after it in this list's order of power.
ROLES = ("manager", "instructor", "reporter", "developer")
ROLE_LABELS = {
    "manager": "Gestionnaire",
    "instructor": "Instructeur",
    "reporter": "Rapporteur",
    "developer": "Développeur",
}
ROLE_IMPLIES = {
    "manager": {"manager", "instructor", "reporter"},
    "instructor": {"instructor", "reporter"},
    "reporter": {"reporter"},
    "developer": {"developer"},
}


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Organization {self.siret}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    organization: Mapped[Organization] = relationship(lazy="joined")


class Role(db.Model):
    """A user's role on one definition."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("user_id", "definition_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    definition_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    job_title: Mapped[str] = mapped_column(String(150), default="")
    phone_number: Mapped[str] = mapped_column(String(30), default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(cascade="all, delete-orphan")
    roles: Mapped[list[Role]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def organizations(self) -> list[Organization]:
        return sorted((m.organization for m in self.memberships), key=lambda o: o.name)

    def is_member_of(self, organization_id: int) -> bool:
        return any(m.organization_id == organization_id for m in self.memberships)

    def definitions_with(self, role: str) -> set[str] | None:
        """Definition ids on which the user holds `role` (directly or implied); None means all."""
        if self.is_admin:
            return None
        return {r.definition_id for r in self.roles if role in ROLE_IMPLIES[r.role]}

    def has_role(self, role: str, definition_id: str) -> bool:
        ids = self.definitions_with(role)
        return ids is None or definition_id in ids

    @property
    def is_staff(self) -> bool:
        """Reporter or more on at least one definition."""
        ids = self.definitions_with("reporter")
        return ids is None or bool(ids)

    def __repr__(self) -> str:
        return f"<User {self.email}>"
