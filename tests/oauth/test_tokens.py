"""The token endpoint with a real OAuth client (Authlib's requests session) over loopback HTTP."""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from flask import Flask, jsonify
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.oauth.conftest import post

GRANTED = ["cnaf_quotient_familial", "msa_quotient_familial"]


def fetch(base: str, consumer, method: str = "client_secret_basic", scope: str | None = None):
    session = OAuth2Session(
        consumer.client_id,
        consumer.client_secret,
        token_endpoint_auth_method=method,
        scope=scope,
    )
    return session.fetch_token(f"{base}/oauth/token", grant_type="client_credentials")


def verify(base: str, access_token: str):
    """Verify as a producer would, locally, with the published keys."""
    keys = KeySet.import_key_set(requests.get(f"{base}/.well-known/jwks.json", timeout=5).json())
    return jwt.decode(access_token, keys, algorithms=["ES256"])


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_token_is_an_rfc9068_jwt_verified_with_the_jwks(live_server, approve, method):
    consumer = approve()
    token = fetch(live_server, consumer, method)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == " ".join(GRANTED)

    decoded = verify(live_server, token["access_token"])
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.header["alg"] == "ES256"
    assert decoded.header["kid"]
    claims = decoded.claims
    assert claims["iss"] == live_server
    assert claims["aud"] == "api_particulier"
    assert claims["sub"] == claims["client_id"] == consumer.client_id
    assert claims["scope"] == " ".join(GRANTED)
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["authorization_id"] == consumer.authorization_id
    assert len(claims["jti"]) >= 16
    jwt.JWTClaimsRegistry(exp={"essential": True}).validate(claims)


def test_lifetime_comes_from_the_definition(live_server, approve):
    consumer = approve("api_droits_cnam")
    token = fetch(live_server, consumer)
    assert token["expires_in"] == 1800
    claims = verify(live_server, token["access_token"]).claims
    assert claims["aud"] == "api_droits_cnam"
    assert claims["exp"] - claims["iat"] == 1800


def test_a_producer_api_protects_an_endpoint_with_the_token(live_server, approve):
    """A producer's own API (here a tiny Flask app) validates tokens with Authlib and the JWKS."""
    keys = KeySet.import_key_set(requests.get(f"{live_server}/.well-known/jwks.json").json())

    class Validator(JWTBearerTokenValidator):
        def get_jwks(self):
            return keys

    require_oauth = ResourceProtector()
    require_oauth.register_token_validator(Validator(live_server, "api_particulier"))
    producer_api = Flask("producer_api")

    @producer_api.get("/v2/quotient-familial")
    @require_oauth("cnaf_quotient_familial")
    def quotient():
        return jsonify(quotient=1234)

    api = producer_api.test_client()
    assert api.get("/v2/quotient-familial").status_code == 401
    access_token = fetch(live_server, approve())["access_token"]
    response = api.get("/v2/quotient-familial", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200
    assert response.json == {"quotient": 1234}
    other = fetch(live_server, approve("api_droits_cnam"))["access_token"]
    response = api.get("/v2/quotient-familial", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 401  # another API's audience


def test_a_subset_of_the_granted_scopes(live_server, approve):
    token = fetch(live_server, approve(), scope="msa_quotient_familial")
    assert token["scope"] == "msa_quotient_familial"
    assert verify(live_server, token["access_token"]).claims["scope"] == "msa_quotient_familial"


def test_more_than_granted_is_invalid_scope(live_server, approve):
    consumer = approve()
    with pytest.raises(OAuthError) as error:
        fetch(live_server, consumer, scope="cnaf_quotient_familial cnaf_rsa")
    assert error.value.error == "invalid_scope"


@pytest.mark.parametrize(
    "auth, data",
    [
        (("dp_unknown", "whatever"), {}),
        (None, {"client_id": "dp_unknown", "client_secret": "whatever"}),
        (None, {}),
    ],
)
def test_bad_client_is_invalid_client_401(live_server, approve, auth, data):
    response = post(live_server, "/oauth/token", {"grant_type": "client_credentials", **data}, auth)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Traceback" not in response.text


def test_wrong_secret_is_invalid_client(live_server, approve):
    consumer = approve()
    for auth, data in (
        ((consumer.client_id, "dps_wrong"), {}),
        (None, {"client_id": consumer.client_id, "client_secret": "dps_wrong"}),
    ):
        response = post(
            live_server, "/oauth/token", {"grant_type": "client_credentials", **data}, auth
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unsupported_grant_type(live_server, approve):
    consumer = approve()
    response = post(
        live_server,
        "/oauth/token",
        {"grant_type": "password", "username": "a", "password": "b"},
        (consumer.client_id, consumer.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_producer_credential_gets_no_token(live_server, producer):
    client_id, secret = producer()
    response = post(
        live_server, "/oauth/token", {"grant_type": "client_credentials"}, (client_id, secret)
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_no_secret_yet_means_no_token(live_server, app, factory):
    from datapass.authorizations.models import Authorization
    from datapass.extensions import db
    from datapass.oauth.services import credential_for

    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org, state="validated")
    with app.app_context():
        authorization = db.session.scalar(db.select(Authorization).filter_by(request_id=request_id))
        client_id = credential_for(authorization).client_id
    response = post(
        live_server,
        "/oauth/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": ""},
    )
    assert response.status_code == 401


def test_token_use_is_recorded_as_last_use(live_server, approve, login_as):
    consumer = approve()
    page = login_as(consumer.applicant_id).get(f"/authorizations/{consumer.authorization_id}")
    assert "Jamais utilisé" in page.text
    fetch(live_server, consumer)
    page = login_as(consumer.applicant_id).get(f"/authorizations/{consumer.authorization_id}")
    assert "Jamais utilisé" not in page.text


def test_metadata_lists_every_endpoint(live_server):
    metadata = requests.get(f"{live_server}/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == live_server
    assert metadata["token_endpoint"] == f"{live_server}/oauth/token"
    assert metadata["jwks_uri"] == f"{live_server}/.well-known/jwks.json"
    assert metadata["introspection_endpoint"] == f"{live_server}/oauth/introspect"
    assert metadata["revocation_endpoint"] == f"{live_server}/oauth/revoke"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "cnaf_quotient_familial" in metadata["scopes_supported"]
    assert "dgfip_avis_imposition" not in metadata["scopes_supported"]  # disabled scope


def test_token_endpoint_is_rate_limited_per_client(live_server, app, approve):
    from datapass.oauth.ratelimit import LIMITER_EXTENSION, RateLimiter

    app.extensions[LIMITER_EXTENSION] = RateLimiter(per_minute=2)
    consumer, other = approve(), approve()
    # Wrong secrets with the client's id count for nothing: nobody can use up its quota.
    for _ in range(3):
        response = post(
            live_server,
            "/oauth/token",
            {"grant_type": "client_credentials"},
            (consumer.client_id, "dps_wrong"),
        )
        assert response.status_code == 401
    fetch(live_server, consumer)
    fetch(live_server, consumer)
    response = post(
        live_server,
        "/oauth/token",
        {"grant_type": "client_credentials"},
        (consumer.client_id, consumer.client_secret),
    )
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["Cache-Control"] == "no-store"
    fetch(live_server, other)  # another client is not held back
