"""The Authlib authorization server: client-credentials grant, RFC 9068 JWT access tokens,
revocation (RFC 7009); introspection (RFC 7662) lives in its own module, being the hot path."""

from __future__ import annotations

import base64
import json
import secrets

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import current_app, request
from joserfc import jwt
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from datapass.authorizations.models import Authorization
from datapass.catalog import get_definition
from datapass.extensions import db
from datapass.oauth import clock, services
from datapass.oauth.hashing import hash_secret
from datapass.oauth.introspection import Introspection
from datapass.oauth.keys import ALGORITHM, SigningKeys
from datapass.oauth.models import API, API_TOKEN_LIFETIME, Credential
from datapass.oauth.producer_cache import PRODUCER_CACHE_EXTENSION, ProducerCache, ProducerClient
from datapass.oauth.ratelimit import LIMITER_EXTENSION, RateLimitedError
from datapass.oauth.validity import authorization_is_live

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
KEYS_EXTENSION = "datapass.oauth.keys"


def issuer() -> str:
    """OAUTH_ISSUER, or this server's root URL when unset (development)."""
    return current_app.config["OAUTH_ISSUER"] or request.url_root.rstrip("/")


def signing_keys() -> SigningKeys:
    return current_app.extensions[KEYS_EXTENSION]


# The authorization (with its organisation) in the same query, not the request it came from.
_CLIENT_QUERY = (
    select(Credential)
    .options(joinedload(Credential.authorization).lazyload(Authorization.request))
    .where(Credential.client_id == bindparam("client_id"))
)


def producer_cache() -> ProducerCache:
    return current_app.extensions[PRODUCER_CACHE_EXTENSION]


def query_client(client_id: str) -> Credential | ProducerClient | None:
    cached = producer_cache().get(client_id)
    if cached is not None:
        return cached
    credential = db.session.scalar(_CLIENT_QUERY, {"client_id": client_id})
    if credential is None:
        hash_secret(client_id)  # same work as a known client: no timing hint that it exists
    else:
        producer_cache().remember(credential)
    return credential


def _claims_of(access_token: str) -> dict:
    """The payload of a JWT this server has just signed (no need to verify it again)."""
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def save_token(token: dict, oauth_request) -> None:
    services.store_access_token(
        oauth_request.client, token["access_token"], _claims_of(token["access_token"])
    )


class AccessTokenGenerator(BearerTokenGenerator):
    """RFC 9068 JWT access tokens, signed with the current key (its `kid` in the header)."""

    def __init__(self):
        super().__init__(self.generate_jwt, None, self.lifetime)

    @staticmethod
    def lifetime(client: Credential, grant_type: str) -> int:
        if client.kind == API:
            return API_TOKEN_LIFETIME
        return get_definition(client.definition_id).token.lifetime

    def generate_jwt(self, client: Credential, grant_type: str, user, scope: str) -> str:
        now = int(clock.now().timestamp())
        authorization = client.authorization
        claims = {
            "iss": issuer(),
            "sub": client.client_id,
            "aud": client.definition_id,
            "client_id": client.client_id,
            "scope": scope,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + self.lifetime(client, grant_type),
        }
        if authorization is not None:  # none for an API client, which acts as its owner
            claims["authorization_id"] = authorization.id
            claims["siret"] = authorization.organization.siret
        key = signing_keys().current()
        header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


class ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client: Credential = self.request.client
        retry_after = current_app.extensions[LIMITER_EXTENSION].hit(client.client_id)
        if retry_after:
            raise RateLimitedError(retry_after)
        if client.kind != API and not authorization_is_live(client.authorization):
            raise InvalidGrantError(description="The authorization is no longer active.")
        requested = scope_to_list(self.request.payload.scope) or []
        if not set(requested) <= set(client.scopes):
            raise InvalidScopeError(description="Requested scope exceeds the granted scopes.")


class Revocation(RevocationEndpoint):
    """A consumer revokes its own tokens."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return services.find_access_token(token_string)

    def revoke_token(self, token, request) -> None:
        services.revoke_access_token(token)


class OAuthServer(AuthorizationServer):
    def handle_error_response(self, request, error):
        if error.error == "invalid_client":
            # One answer whatever failed (unknown id, bad secret, wrong endpoint): RFC 6749 5.2.
            error.status_code = 401
            error.description = "Client authentication failed."
        return super().handle_error_response(request, error)


def create_server(app) -> OAuthServer:
    app.extensions[PRODUCER_CACHE_EXTENSION] = ProducerCache(app.config["OAUTH_PRODUCER_CACHE_TTL"])
    server = OAuthServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_token_generator("default", AccessTokenGenerator())
    server.register_grant(ClientCredentials)
    server.register_endpoint(Introspection(server, issuer))
    server.register_endpoint(Revocation)
    return server
