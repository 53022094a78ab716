"""API clients: OAuth 2 clients (credentials of kind "api") owned by a user, who acts through
them with its own rights, narrowed to the client's scopes. Services flush; callers commit."""

from __future__ import annotations

from sqlalchemy import select

from datapass.accounts.models import User
from datapass.api.auth import API_SCOPES
from datapass.errors import DomainError, Forbidden
from datapass.extensions import db
from datapass.lifecycle.models import EVENT_LABELS
from datapass.lifecycle.services import record_event
from datapass.oauth import clock
from datapass.oauth.hashing import generate_client_id, generate_secret, hash_secret
from datapass.oauth.models import API, API_AUDIENCE, Credential
from datapass.oauth.services import revoke_credential

EVENT_LABELS.setdefault("issue_api_client", "Client d'API créé")

NAME_MAX = 100


def can_use_portal(user: User) -> bool:
    """Developers (of at least one definition) and admins."""
    ids = user.definitions_with("developer")
    return ids is None or bool(ids)


def create_api_client(owner: User, name: str, scopes: list[str]) -> tuple[Credential, str]:
    """A new API client of `owner`; returns it with its secret in clear, the only time."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise DomainError(f"Nommez le client (de 1 à {NAME_MAX} caractères).")
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown:
        raise DomainError(
            f"Scopes inconnus : {', '.join(unknown)} (possibles : {', '.join(API_SCOPES)})."
        )
    if not scopes:
        raise DomainError("Choisissez au moins un scope.")
    secret = generate_secret()
    credential = Credential(
        client_id=generate_client_id(),
        kind=API,
        definition_id=API_AUDIENCE,
        name=name,
        scopes=[s for s in API_SCOPES if s in scopes],
        secret_hash=hash_secret(secret),
        secret_created_at=clock.now(),
        created_by_id=owner.id,
    )
    db.session.add(credential)
    db.session.flush()
    record_event("issue_api_client", owner, reason=f"{name}: client_id {credential.client_id}")
    return credential, secret


def api_clients_of(user: User) -> list[Credential]:
    return list(
        db.session.scalars(
            select(Credential)
            .where(Credential.kind == API, Credential.created_by_id == user.id)
            .order_by(Credential.id.desc())
        )
    )


def revoke_api_client(credential: Credential, user: User) -> None:
    if credential.kind != API or credential.created_by_id != user.id:
        raise Forbidden("Ce client d'API n'est pas le vôtre.")
    revoke_credential(credential, user)
