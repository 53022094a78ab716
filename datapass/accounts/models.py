"""Users, organisations (SIRET), memberships and roles on definitions."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
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
# A role whose scope is "provider:<slug>" covers every definition of that provider.
PROVIDER_SCOPE_PREFIX = "provider:"
VERIFIED_BY_LABELS = {
    "identity_provider": "le fournisseur d'identité",
    "admin": "un administrateur",
}


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    legal_form: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    # False once the register says the establishment is closed ("fermé").
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    directory_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Organization {self.siret}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # Verified by the identity provider (its SIRET claim) or by an admin, with a reason.
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    verification_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    organization: Mapped[Organization] = relationship(lazy="joined")

    @property
    def verified_by_label(self) -> str:
        return VERIFIED_BY_LABELS.get(self.verified_by or "", "")


class Role(db.Model):
    """A user's role on one definition, or on all of a provider's ("provider:<slug>")."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("user_id", "definition_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    definition_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))

    @property
    def provider_slug(self) -> str | None:
        if self.definition_id.startswith(PROVIDER_SCOPE_PREFIX):
            return self.definition_id.removeprefix(PROVIDER_SCOPE_PREFIX)
        return None

    def definition_ids(self) -> set[str]:
        """The definitions this role covers today (a provider grant follows the catalogue)."""
        slug = self.provider_slug
        if slug is None:
            return {self.definition_id}
        from datapass.catalog import all_definitions

        return {d.id for d in all_definitions().values() if d.provider.slug == slug}


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
    # The identity provider's subject (OpenID Connect `sub`), set at the first OIDC sign-in.
    oidc_sub: Mapped[str | None] = mapped_column(
        String(255), unique=True, index=True, nullable=True
    )
    last_acr: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_amr: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A preference, not a constraint: read through `current_organization`, which falls back to
    # the first organisation when the user is no longer a member of the chosen one.
    current_organization_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Bumped to end every session of the user ("logout everywhere", ban).
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ban_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    memberships: Mapped[list[Membership]] = relationship(cascade="all, delete-orphan")
    roles: Mapped[list[Role]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None

    @property
    def organizations(self) -> list[Organization]:
        return sorted((m.organization for m in self.memberships), key=lambda o: o.name)

    def membership_in(self, organization_id: int) -> Membership | None:
        return next((m for m in self.memberships if m.organization_id == organization_id), None)

    def is_member_of(self, organization_id: int) -> bool:
        return self.membership_in(organization_id) is not None

    @property
    def current_organization(self) -> Organization | None:
        """The organisation the user acts for: the chosen one while a member, else the first."""
        membership = (
            self.membership_in(self.current_organization_id)
            if self.current_organization_id
            else None
        )
        if membership is not None:
            return membership.organization
        organizations = self.organizations
        return organizations[0] if organizations else None

    @property
    def current_membership(self) -> Membership | None:
        organization = self.current_organization
        return self.membership_in(organization.id) if organization else None

    def definitions_with(self, role: str) -> set[str] | None:
        """Definition ids on which the user holds `role` (directly or implied); None means all."""
        if self.is_admin:
            return None
        ids: set[str] = set()
        for r in self.roles:
            if role in ROLE_IMPLIES.get(r.role, ()):
                ids |= r.definition_ids()
        return ids

    def has_role(self, role: str, definition_id: str) -> bool:
        ids = self.definitions_with(role)
        return ids is None or definition_id in ids

    @property
    def is_staff(self) -> bool:
        """Reporter or more on at least one definition."""
        ids = self.definitions_with("reporter")
        return ids is None or bool(ids)

    @property
    def can_manage_roles(self) -> bool:
        ids = self.definitions_with("manager")
        return ids is None or bool(ids)

    def __repr__(self) -> str:
        return f"<User {self.email}>"
