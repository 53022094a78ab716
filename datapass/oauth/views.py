"""The OAuth endpoints (machine to machine, CSRF-exempt) and the discovery documents."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from datapass.catalog import all_definitions
from datapass.extensions import db
from datapass.oauth import introspection
from datapass.oauth.keys import ALGORITHM
from datapass.oauth.server import AUTH_METHODS, issuer, query_client, signing_keys

bp = Blueprint("oauth", __name__)

SERVER_EXTENSION = "datapass.oauth.server"


def _server():
    return current_app.extensions[SERVER_EXTENSION]


@bp.post("/oauth/token")
def token():
    """Client credentials grant; rate limited per authenticated client (see ratelimit)."""
    response = _server().create_token_response()
    db.session.commit()
    return response


@bp.post("/oauth/introspect")
def introspect():
    """RFC 7662, the producers' hot path: see introspection.respond."""
    return introspection.respond(request.form, request.headers, query_client, issuer)


@bp.post("/oauth/revoke")
def revoke():
    response = _server().create_endpoint_response("revocation")
    db.session.commit()
    return response


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(signing_keys().jwks())
    # Short enough that verifiers see a rotated key well before the previous one is dropped.
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    """RFC 8414 authorization server metadata."""
    scopes = sorted({s.value for d in all_definitions().values() for s in d.grantable_scopes})
    return jsonify(
        issuer=issuer(),
        token_endpoint=url_for(".token", _external=True),
        jwks_uri=url_for(".jwks", _external=True),
        introspection_endpoint=url_for(".introspect", _external=True),
        revocation_endpoint=url_for(".revoke", _external=True),
        grant_types_supported=["client_credentials"],
        response_types_supported=[],  # required member; no authorization endpoint, so none
        token_endpoint_auth_methods_supported=AUTH_METHODS,
        introspection_endpoint_auth_methods_supported=AUTH_METHODS,
        revocation_endpoint_auth_methods_supported=AUTH_METHODS,
        scopes_supported=scopes,
        access_token_signing_alg_values_supported=[ALGORITHM],
        service_documentation=url_for("catalog.index", _external=True),
    )
