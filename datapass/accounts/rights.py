"""Managing who may do what: role grants and removals, membership verification, bans and
impersonation. Every change is recorded as an Event (the audit log admins read), in the same
transaction as the change itself.

Scopes: a definition id, or "provider:<slug>" for every definition of a provider. A manager
manages roles on the definitions it manages; a provider-wide grant is managed by a provider-wide
manager of that provider or by an admin; an admin manages everything.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from datapass.accounts.models import (
    PROVIDER_SCOPE_PREFIX,
    ROLE_LABELS,
    ROLES,
    Membership,
    Role,
    User,
)
from datapass.catalog import all_definitions
from datapass.errors import DomainError, Forbidden
from datapass.extensions import db
from datapass.lifecycle.models import Event
from datapass.models_base import utcnow

AUDIT_EVENTS = {
    "grant_role": "Rôle attribué",
    "remove_role": "Rôle retiré",
    "ban_user": "Compte suspendu",
    "unban_user": "Compte rétabli",
    "verify_membership": "Appartenance vérifiée",
    "start_impersonation": "Début d'intervention en tant qu'utilisateur (support)",
    "stop_impersonation": "Fin d'intervention en tant qu'utilisateur (support)",
    "impersonated_action": "Action effectuée en tant qu'utilisateur (support)",
    "create_admin": "Administrateur créé",
}


def scope_choices() -> list[tuple[str, str]]:
    """Every scope a role can have: each definition, then each provider as a whole."""
    definitions = all_definitions().values()
    choices = [(d.id, d.name) for d in sorted(definitions, key=lambda d: d.name)]
    providers = {d.provider.slug: d.provider.name for d in definitions}
    choices += [
        (f"{PROVIDER_SCOPE_PREFIX}{slug}", f"Toutes les API de {name}")
        for slug, name in sorted(providers.items())
    ]
    return choices


def scope_label(scope: str) -> str:
    return dict(scope_choices()).get(scope, scope)


def role_label(role: Role) -> str:
    return f"{ROLE_LABELS.get(role.role, role.role)} — {scope_label(role.definition_id)}"


def can_manage_scope(actor: User, scope: str) -> bool:
    if actor.is_admin:
        return True
    if scope.startswith(PROVIDER_SCOPE_PREFIX):
        return any(r.role == "manager" and r.definition_id == scope for r in actor.roles)
    return actor.has_role("manager", scope)


def manageable_scopes(actor: User) -> list[tuple[str, str]]:
    return [(s, label) for s, label in scope_choices() if can_manage_scope(actor, s)]


def record_audit(
    name: str,
    actor: User | None,
    target: User,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        name=name,
        user=actor,
        reason=reason,
        changes={"target_user_id": target.id, "target_email": target.email, **(details or {})},
    )
    db.session.add(event)
    return event


def grant_role(actor: User | None, target: User, role: str, scope: str) -> Role:
    """Give `target` the role on `scope`; actor None is the command line (an operator)."""
    if role not in ROLES:
        raise DomainError(f"Rôle inconnu : {role} (attendu : {', '.join(ROLES)}).")
    if scope not in dict(scope_choices()):
        raise DomainError(f"Périmètre inconnu : {scope}.")
    if actor is not None and not can_manage_scope(actor, scope):
        raise Forbidden("Vous ne gérez pas les droits de ce périmètre.")
    if any(r.role == role and r.definition_id == scope for r in target.roles):
        raise DomainError(f"{target.full_name} a déjà ce rôle.")
    granted = Role(role=role, definition_id=scope)
    target.roles.append(granted)
    record_audit("grant_role", actor, target, details={"role": role, "scope": scope})
    db.session.flush()
    return granted


def remove_role(actor: User, role_obj: Role) -> None:
    target = db.session.get(User, role_obj.user_id)
    if not can_manage_scope(actor, role_obj.definition_id):
        raise Forbidden("Vous ne gérez pas les droits de ce périmètre.")
    if target.id == actor.id and role_obj.role == "manager" and not actor.is_admin:
        raise DomainError("Vous ne pouvez pas retirer votre propre rôle de gestionnaire.")
    record_audit(
        "remove_role",
        actor,
        target,
        details={"role": role_obj.role, "scope": role_obj.definition_id},
    )
    target.roles.remove(role_obj)
    db.session.flush()


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("Action réservée aux administrateurs.")


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Indiquez un motif.")
    return reason


def ban_user(actor: User, target: User, reason: str) -> None:
    """Suspend the account: every session ends at its next request, sign-in is refused."""
    _require_admin(actor)
    reason = _require_reason(reason)
    if target.id == actor.id:
        raise DomainError("Vous ne pouvez pas suspendre votre propre compte.")
    if target.is_banned:
        raise DomainError("Ce compte est déjà suspendu.")
    target.banned_at = utcnow()
    target.ban_reason = reason
    target.session_version += 1
    record_audit("ban_user", actor, target, reason=reason)
    db.session.flush()


def unban_user(actor: User, target: User, reason: str) -> None:
    _require_admin(actor)
    reason = _require_reason(reason)
    if not target.is_banned:
        raise DomainError("Ce compte n'est pas suspendu.")
    target.banned_at = None
    target.ban_reason = None
    record_audit("unban_user", actor, target, reason=reason)
    db.session.flush()


def verify_membership(actor: User, membership: Membership, reason: str) -> None:
    _require_admin(actor)
    reason = _require_reason(reason)
    if membership.verified:
        raise DomainError("Cette appartenance est déjà vérifiée.")
    membership.verified = True
    membership.verified_by = "admin"
    membership.verification_reason = reason
    membership.verified_at = utcnow()
    target = db.session.get(User, membership.user_id)
    record_audit(
        "verify_membership",
        actor,
        target,
        reason=reason,
        details={"siret": membership.organization.siret},
    )
    db.session.flush()


def start_impersonation(actor: User, target: User, reason: str) -> None:
    _require_admin(actor)
    reason = _require_reason(reason)
    if target.id == actor.id or target.is_admin:
        raise DomainError("Impossible d'agir en tant que ce compte.")
    if target.is_banned:
        raise DomainError("Ce compte est suspendu.")
    record_audit("start_impersonation", actor, target, reason=reason)
    current_app.logger.info("admin %s impersonates %s: %s", actor.email, target.email, reason)
    db.session.flush()
