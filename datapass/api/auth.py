"""Bearer tokens of API clients: who calls, with which scopes, on whose behalf.

A token comes from /oauth/token (client credentials of an API client). It is looked up by its
hash, so a revoked or expired token, or one of a revoked client, stops at once. The client acts
with its owner's rights, never more: views read through datapass.access with the owner.
"""

from __future__ import annotations

from functools import wraps

from flask import g, request

from datapass.accounts.models import User
from datapass.api.problems import ApiProblem
from datapass.extensions import db
from datapass.oauth import clock
from datapass.oauth.models import API
from datapass.oauth.services import find_access_token

API_SCOPES = {
    "read_requests": "Lire les demandes visibles du propriétaire",
    "write_requests": "Créer, modifier et soumettre les demandes du propriétaire",
    "instruct": "Instruire (décisions, révocations) là où le propriétaire est instructeur",
    "read_authorizations": "Lire les habilitations visibles du propriétaire",
    "manage_webhooks": "Gérer les webhooks du propriétaire",
}


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        "invalid_token",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="datapass", error="invalid_token"'},
    )


def authenticate() -> None:
    """Check the bearer token and remember the client, its owner and its scopes in `g`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(
            401,
            "missing_token",
            "Jeton d'accès manquant : envoyez « Authorization: Bearer <jeton> ».",
            headers={"WWW-Authenticate": 'Bearer realm="datapass"'},
        )
    stored = find_access_token(token.strip())
    if (
        stored is None
        or stored.revoked_at is not None
        or stored.expires_at <= clock.now()
        or stored.credential.kind != API
        or stored.credential.revoked_at is not None
    ):
        raise _unauthorized("Jeton d'accès invalide, expiré ou révoqué.")
    owner = db.session.get(User, stored.credential.created_by_id)
    if owner is None:
        raise _unauthorized("Le propriétaire de ce client n'existe plus.")
    g.api_client, g.api_owner = stored.credential, owner
    g.api_scopes = frozenset(stored.scope.split())


def owner() -> User:
    return g.api_owner


def require_scope(scope: str):
    """403 unless the token carries `scope` (the owner's rights are checked by the services)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if scope not in g.api_scopes:
                raise ApiProblem(
                    403,
                    "insufficient_scope",
                    f"Ce jeton n'a pas le scope « {scope} ».",
                    headers={
                        "WWW-Authenticate": (
                            f'Bearer realm="datapass", error="insufficient_scope", scope="{scope}"'
                        )
                    },
                    required_scope=scope,
                )
            return view(*args, **kwargs)

        wrapper.required_scope = scope
        return wrapper

    return decorator
