"""Introspection (RFC 7662), the producers' hot path: one indexed query, no ORM objects.

A producer introspects the tokens of its own API; any other token reads `{"active": false}`, as
does a token expired, revoked, or whose credential or authorization is no longer live.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError

from datapass.accounts.models import Organization
from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.oauth import clock
from datapass.oauth.hashing import token_hash
from datapass.oauth.models import PRODUCER, AccessToken, Credential
from datapass.oauth.validity import authorization_is_live


@dataclass(frozen=True)
class AuthorizationFacts:
    """What validity reads of an authorization (see validity.py), without an ORM instance."""

    id: int
    definition_id: str
    state: str
    created_at: datetime


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
    authorization: AuthorizationFacts
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


class _Lookup:
    """`_QUERY` compiled once for an engine's dialect and run on a pooled DBAPI connection.

    SQLAlchemy's execution context (parameter processing, result metadata, cursor wrapping) cost
    more than the indexed query itself; this keeps the pool, the dialect's SQL and the columns'
    result processors (UTC datetimes), and raises SQLAlchemy's exceptions as the ORM would.
    """

    def __init__(self, dialect):
        compiled = _QUERY.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = compiled.positional
        self.processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in _QUERY.selected_columns
        ]

    def __call__(self, engine, token_hash: str):
        params = (token_hash,) if self.positional else {"token_hash": token_hash}
        dialect = engine.dialect
        # One read of committed rows needs no transaction: on a server database, autocommit
        # saves the BEGIN and the ROLLBACK on return to the pool, two round trips of four.
        autocommit = dialect.name != "sqlite"
        connection = engine.raw_connection()  # pool checkout (and pre-ping where set)
        try:
            if autocommit:
                dialect.set_isolation_level(connection.dbapi_connection, "AUTOCOMMIT")
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
                if autocommit:
                    dialect.reset_isolation_level(connection.dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, connection.dbapi_connection, None):
                connection.invalidate(error)
            raise DBAPIError.instance(
                self.sql, params, error, dialect.loaded_dbapi.Error, hide_parameters=True
            ) from error
        finally:
            connection.close()  # back to the pool, rolled back
        if row is None:
            return None
        return [
            value if p is None else p(value) for p, value in zip(self.processors, row, strict=True)
        ]


_LOOKUPS: WeakKeyDictionary = WeakKeyDictionary()  # engine -> its _Lookup


def find_introspected_token(access_token: str) -> IntrospectedToken | None:
    engine = db.engine
    lookup = _LOOKUPS.get(engine)
    if lookup is None:
        lookup = _LOOKUPS[engine] = _Lookup(engine.dialect)
    row = lookup(engine, token_hash(access_token))
    if row is None:
        return None
    # Not a transient ORM Authorization: instrumenting one cost more than the query's fetch.
    return IntrospectedToken(*row[:8], authorization=AuthorizationFacts(*row[8:12]), siret=row[12])


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


# The hot path without Authlib's request wrapping (URL rebuilding, header and form copies), which
# cost more than the lookup itself. Same rules as Introspection above (RFC 7662 with the
# client_secret_basic and client_secret_post authentications of RFC 6749); Authlib's own parser
# reads the Basic header.
INACTIVE = {"active": False}
_JSON_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
}


def _oauth_error(status: int, error: str, description: str, headers: dict | None = None):
    body = {"error": error, "error_description": description}
    return json.dumps(body), status, {**_JSON_HEADERS, **(headers or {})}


def _authenticated_producer(form, headers, query_client):
    """The producer client authenticated by Basic or by the form, or None."""
    method = "client_secret_basic"
    client_id, client_secret = extract_basic_authorization(headers)
    if not (client_id and client_secret):
        method = "client_secret_post"
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not (client_id and client_secret):
        return None
    client = query_client(client_id)
    if client is None or not client.check_endpoint_auth_method(method, "introspection"):
        return None
    return client if client.check_client_secret(client_secret) else None


def respond(form, headers, query_client, issuer):
    """(body, status, headers) of an introspection request."""
    client = _authenticated_producer(form, headers, query_client)
    if client is None:
        return _oauth_error(
            401,
            "invalid_client",
            "Client authentication failed.",
            {"WWW-Authenticate": 'Basic error="invalid_client"'},
        )
    token_string = form.get("token")
    if not token_string:
        return _oauth_error(400, "invalid_request", "Missing 'token' parameter.")
    hint = form.get("token_type_hint")
    if hint and hint not in Introspection.SUPPORTED_TOKEN_TYPES:
        return _oauth_error(400, "unsupported_token_type", "Unsupported token type hint.")
    token = find_introspected_token(token_string)
    endpoint = Introspection(issuer=issuer)
    if (
        token is None
        or token.is_expired()
        or token.is_revoked()
        or not endpoint.check_permission(token, client, None)
    ):
        return json.dumps(INACTIVE), 200, _JSON_HEADERS
    return json.dumps(endpoint.introspect_token(token)), 200, _JSON_HEADERS
