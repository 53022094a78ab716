"""The developer portal and `datapass create-api-client`."""

from __future__ import annotations

import json
import re

from datapass.extensions import db
from tests.api.conftest import Api, fetch_token

SECRET = re.compile(r'data-testid="client-secret">([^<]+)<')
CLIENT_ID = re.compile(r"<code>(dp_[0-9a-f]+)</code>")


def test_portal_is_for_developers_only(factory, login_as):
    applicant = factory.user(organizations=(factory.organization(),))
    assert login_as(applicant).get("/developers").status_code == 404
    assert login_as(applicant).post("/developers/clients").status_code == 404


def test_developer_creates_a_client_whose_secret_is_shown_once(app, factory, login_as):
    developer = factory.user(roles=(("developer", "api_particulier"),))
    browser = login_as(developer)
    response = browser.post(
        "/developers/clients", data={"name": "Mon logiciel", "scopes": ["read_requests"]}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = SECRET.search(response.text).group(1)
    client_id = CLIENT_ID.search(response.text).group(1)

    page = browser.get("/developers").text
    assert client_id in page and "Mon logiciel" in page
    assert secret not in page

    token = fetch_token(app.test_client(), client_id, secret)
    assert token.status_code == 200
    api = Api(app.test_client(), token.json["access_token"])
    assert api.get("/me").json["client"]["name"] == "Mon logiciel"


def test_portal_form_errors_are_in_french(factory, login_as):
    developer = factory.user(roles=(("developer", "api_particulier"),))
    response = login_as(developer).post("/developers/clients", data={"name": ""})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in response.text
    assert "Choisissez au moins un scope." in response.text


def test_developer_revokes_its_client(app, factory, login_as):
    from datapass.oauth.models import Credential

    developer = factory.user(roles=(("developer", "api_particulier"),))
    browser = login_as(developer)
    response = browser.post(
        "/developers/clients", data={"name": "Ancien", "scopes": ["read_requests"]}
    )
    client_id = CLIENT_ID.search(response.text).group(1)
    secret = SECRET.search(response.text).group(1)
    with app.app_context():
        credential_id = db.session.scalar(db.select(Credential.id).filter_by(client_id=client_id))
    other = factory.user(roles=(("developer", "api_particulier"),))
    assert login_as(other).post(f"/developers/clients/{credential_id}/revoke").status_code == 404
    assert browser.post(f"/developers/clients/{credential_id}/revoke").status_code == 302
    assert fetch_token(app.test_client(), client_id, secret).status_code == 401
    assert "Révoqué le" in browser.get("/developers").text


def test_cli_creates_an_api_client_as_json(app, factory):
    from datapass.accounts.models import User

    user = factory.user(organizations=(factory.organization(),))
    with app.app_context():
        email = db.session.get(User, user).email
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-api-client", "--owner", email, "--scopes", "read_requests,instruct", "--json"]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["scopes"] == ["read_requests", "instruct"]
    token = fetch_token(app.test_client(), created["client_id"], created["client_secret"])
    assert token.status_code == 200
    assert token.json["scope"] == "read_requests instruct"


def test_cli_refuses_unknown_owner_and_scopes(app, factory):
    from datapass.accounts.models import User
    from datapass.oauth.models import API, Credential

    user = factory.user()
    with app.app_context():
        email = db.session.get(User, user).email
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-api-client", "--owner", "nobody@example.org", "--scopes", "read_requests"]
    )
    assert result.exit_code != 0
    assert "no user" in result.output
    result = runner.invoke(args=["create-api-client", "--owner", email, "--scopes", "admin"])
    assert result.exit_code != 0
    assert "admin" in result.output and "read_requests" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(Credential).filter_by(kind=API)) is None
