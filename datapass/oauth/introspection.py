"""Introspection (RFC 7662), the producers' hot path: one indexed query, no ORM objects.

A producer introspects the tokens of its own API; any other token reads `{"active": false}`, as
does a token expired, revoked, or whose credential or authorization is no longer live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy import bindparam, select

from datapass.accounts.models import Organization
from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.oauth import clock
from datapass.oauth.hashing import token_hash
from datapass.oauth.models import PRODUCER, AccessToken, Credential
from datapass.oauth.validity import authorization_is_live


@dataclass(frozen=True)
class IntrospectedToken:
    """What introspection needs of a stored token, its credential and its authorization."""

    jti: str
    scope: str
    audience: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    client_id: str
    credential_revoked_at: datetime | None
    authorization: Authorization
    siret: str

    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()

    def is_revoked(self) -> bool:
        return bool(
            self.revoked_at
            or self.credential_revoked_at
            or not authorization_is_live(self.authorization)
        )


# Built once with a bound parameter: no statement building or cache-key work per call.
_QUERY = (
    select(
        AccessToken.jti,
        AccessToken.scope,
        AccessToken.audience,
        AccessToken.issued_at,
        AccessToken.expires_at,
        AccessToken.revoked_at,
        Credential.client_id,
        Credential.revoked_at,
        Authorization.id,
        Authorization.definition_id,
        Authorization.state,
        Authorization.created_at,
        Organization.siret,
    )
    .join(Credential, AccessToken.credential_id == Credential.id)
    .join(Authorization, AccessToken.authorization_id == Authorization.id)
    .join(Organization, Authorization.organization_id == Organization.id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)


def find_introspected_token(access_token: str) -> IntrospectedToken | None:
    # Core on the session's connection: the ORM layer adds nothing to a tuple of columns.
    row = db.session.connection().execute(_QUERY, {"token_hash": token_hash(access_token)}).first()
    if row is None:
        return None
    # A transient Authorization carrying only what validity needs (state, dates, definition).
    authorization = Authorization(
        id=row[8], definition_id=row[9], state=row[10], created_at=row[11]
    )
    return IntrospectedToken(*row[:8], authorization=authorization, siret=row[12])


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def __init__(self, server=None, issuer=None):
        super().__init__(server)
        self.issuer = issuer

    def query_token(self, token_string, token_type_hint):
        return find_introspected_token(token_string)

    def check_permission(self, token, client, request) -> bool:
        return client.kind == PRODUCER and token.audience == client.definition_id

    def introspect_token(self, token: IntrospectedToken) -> dict:
        return {
            "active": True,
            "token_type": "Bearer",
            "scope": token.scope,
            "client_id": token.client_id,
            "sub": token.client_id,
            "aud": token.audience,
            "iss": self.issuer(),
            "jti": token.jti,
            "iat": int(token.issued_at.timestamp()),
            "exp": int(token.expires_at.timestamp()),
            "authorization_id": token.authorization.id,
            "siret": token.siret,
        }
