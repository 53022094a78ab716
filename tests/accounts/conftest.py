"""Fixtures for sign-in tests: a real OpenID Connect provider on loopback, an app using it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.accounts.oidc_provider import OIDCProvider

CLIENT_ID = "datapass-test"
CLIENT_SECRET = "datapass-test-secret-" + "s" * 20

IDENTITY = {
    "sub": "proconnect-sub-0001",
    "email": "Jeanne.Dupont@clamart.fr",
    "given_name": "Jeanne",
    "usual_name": "Dupont",
    "siret": "21920023500014",
    "uid": "42",
    "acr": "eidas1",
    "amr": ["pwd", "mfa"],
}


@pytest.fixture
def provider():
    provider = OIDCProvider(CLIENT_ID, CLIENT_SECRET).start()
    provider.identity = dict(IDENTITY)
    yield provider
    provider.stop()


@pytest.fixture
def oidc_app(make_app, provider):
    app = make_app(
        OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET
    )
    yield app
    with app.app_context():
        from datapass.extensions import db

        db.engine.dispose()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def visit_provider(authorize_url: str) -> str:
    """The browser at the provider: it signs the user in and sends it back; returns the URL."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def sign_in(client, next_path: str | None = None):
    """Run the whole code flow with `client`; returns the callback's response."""
    start = client.get("/login/oidc", query_string={"next": next_path} if next_path else {})
    assert start.status_code == 302, start.data
    return client.get(callback_path(visit_provider(start.headers["Location"])))
