"""The producer's scope: authorizations of the definitions a user is developer of."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.oauth.models import CONSUMER, Credential
from datapass.oauth.validity import authorization_expires_at


def producer_authorizations(definition_ids: set[str] | None) -> list[tuple[Authorization, Any]]:
    """(authorization, its consumer credential or None) for these definitions, newest first."""
    credential = aliased(Credential)
    query = (
        select(Authorization, credential)
        .outerjoin(
            credential,
            (credential.authorization_id == Authorization.id) & (credential.kind == CONSUMER),
        )
        .order_by(Authorization.id.desc())
    )
    if definition_ids is not None:
        query = query.where(Authorization.definition_id.in_(definition_ids))
    return [tuple(row) for row in db.session.execute(query).unique()]


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def authorization_json(authorization: Authorization, credential: Credential | None) -> dict:
    """What a producer may know of an authorization; no secret, no hash."""
    return {
        "id": authorization.id,
        "definition_id": authorization.definition_id,
        "state": authorization.state,
        "organization": {
            "siret": authorization.organization.siret,
            "name": authorization.organization.name,
        },
        "scopes": authorization.scopes,
        "valid_from": _iso(authorization.created_at),
        "valid_until": _iso(authorization_expires_at(authorization)),
        "revoked_at": _iso(authorization.revoked_at),
        "client_id": credential.client_id if credential else None,
        "last_used_at": _iso(credential.last_used_at) if credential else None,
    }
