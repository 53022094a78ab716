"""API fixtures: API clients made through the real service (or the CLI), tokens from
/oauth/token, and a caller that checks every response against the served OpenAPI document."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from tests.api.contract import check_response

ALL_SCOPES = "read_requests write_requests instruct read_authorizations manage_webhooks"


@pytest.fixture
def app(make_app):
    app = make_app(OAUTH_TOKEN_RATE_LIMIT=1000)
    yield app
    with app.app_context():
        from datapass.extensions import db

        db.engine.dispose()


@dataclass
class Api:
    """Calls /api/v1 with a bearer token; each response is checked against the contract."""

    client: FlaskClient
    token: str | None
    client_id: str = ""
    client_secret: str = ""

    def call(self, method: str, path: str, json=None, token: str | None = "default", **kw):
        headers = kw.pop("headers", {})
        token = self.token if token == "default" else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self.client.open(
            "/api/v1" + path, method=method, json=json, headers=headers, **kw
        )
        check_response(self.client.application, method, "/api/v1" + path, response)
        return response

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def post(self, path: str, json=None, **kw):
        return self.call("POST", path, json=json if json is not None else {}, **kw)

    def patch(self, path: str, json=None, **kw):
        return self.call("PATCH", path, json=json, **kw)


def fetch_token(client: FlaskClient, client_id: str, secret: str, scope: str | None = None):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return client.post("/oauth/token", data=data, headers={"Authorization": f"Basic {basic}"})


@pytest.fixture
def api_for(app):
    """An Api acting as `user_id`, through a new API client with `scopes`."""

    def make(user_id: int, scopes: str = ALL_SCOPES, token_scope: str | None = None) -> Api:
        from datapass.accounts.models import User
        from datapass.developers.services import create_api_client
        from datapass.extensions import db

        with app.app_context():
            owner = db.session.get(User, user_id)
            credential, secret = create_api_client(owner, "Tests", scopes.split())
            db.session.commit()
            client_id = credential.client_id
        client = app.test_client()
        response = fetch_token(client, client_id, secret, token_scope)
        assert response.status_code == 200, response.json
        return Api(client, response.json["access_token"], client_id, secret)

    return make
