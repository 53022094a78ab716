"""Bearer tokens of API clients: missing, bad, expired, revoked, narrowed scopes."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Api, fetch_token


def test_me_answers_the_owner_and_the_token_scopes(factory, api_for):
    org = factory.organization(name="Commune de Clamart")
    user = factory.user(organizations=(org,), roles=(("developer", "api_particulier"),))
    api = api_for(user, "read_requests read_authorizations")
    body = api.get("/me").json
    assert body["organizations"][0]["name"] == "Commune de Clamart"
    assert body["roles"] == [{"role": "developer", "definition": "api_particulier"}]
    assert body["client"]["client_id"] == api.client_id
    assert body["scopes"] == ["read_authorizations", "read_requests"]


def test_token_claims_carry_the_api_audience_and_no_authorization(app, factory, api_for):
    from joserfc import jwt

    api = api_for(factory.user())
    with app.app_context():
        from datapass.oauth.server import signing_keys

        claims = jwt.decode(api.token, signing_keys().public_key_set()).claims
    assert claims["aud"] == "datapass_api"
    assert claims["sub"] == api.client_id
    assert "authorization_id" not in claims


def test_missing_and_bad_tokens_are_401_problems(factory, api_for):
    api = api_for(factory.user())
    response = api.get("/me", token=None)
    assert response.status_code == 401
    assert response.json["code"] == "missing_token"
    assert response.content_type == "application/problem+json"
    response = api.get("/me", token="not-a-token")
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_consumer_token_does_not_open_the_api(app, factory, api_for, login_as):
    """An authorization's credential calls the producer's API, never datapass's."""
    import re

    from datapass.authorizations.models import Authorization
    from datapass.extensions import db
    from datapass.oauth.services import credential_for

    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org, state="validated")
    with app.app_context():
        authorization = db.session.scalar(db.select(Authorization).filter_by(request_id=request_id))
        authorization_id, client_id = authorization.id, credential_for(authorization).client_id
    page = login_as(applicant).post(f"/authorizations/{authorization_id}/credential/secret")
    secret = re.search(r'data-testid="client-secret">([^<]+)<', page.text).group(1)
    token = fetch_token(app.test_client(), client_id, secret).json["access_token"]
    api = api_for(applicant)
    assert api.get("/me", token=token).status_code == 401


def test_expired_token_is_refused(factory, api_for, monkeypatch):
    from datapass.oauth import clock

    api = api_for(factory.user())
    assert api.get("/me").status_code == 200
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(seconds=3601))
    assert api.get("/me").status_code == 401


def test_a_token_narrower_than_the_client_misses_scopes(factory, api_for):
    org = factory.organization()
    user = factory.user(organizations=(org,))
    api = api_for(user, token_scope="read_authorizations")
    response = api.get("/requests")
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_scope"
    assert response.json["required_scope"] == "read_requests"
    assert api.get("/authorizations").status_code == 200


def test_a_scope_beyond_the_client_is_invalid_scope(app, factory):
    from datapass.accounts.models import User
    from datapass.developers.services import create_api_client
    from datapass.extensions import db

    user_id = factory.user()
    with app.app_context():
        credential, secret = create_api_client(
            db.session.get(User, user_id), "Lecture", ["read_requests"]
        )
        db.session.commit()
        client_id = credential.client_id
    response = fetch_token(app.test_client(), client_id, secret, "read_requests instruct")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def test_revoking_the_client_stops_its_tokens_at_once(app, factory, api_for):
    from datapass.accounts.models import User
    from datapass.developers.services import revoke_api_client
    from datapass.extensions import db
    from datapass.oauth.models import Credential

    user_id = factory.user()
    api: Api = api_for(user_id)
    with app.app_context():
        credential = db.session.scalar(db.select(Credential).filter_by(client_id=api.client_id))
        revoke_api_client(credential, db.session.get(User, user_id))
        db.session.commit()
    assert api.get("/me").status_code == 401
    again = fetch_token(app.test_client(), api.client_id, api.client_secret)
    assert again.status_code == 401


def test_oauth_revocation_of_an_api_token(app, factory, api_for):
    api = api_for(factory.user())
    basic = (api.client_id, api.client_secret)
    import base64

    auth = base64.b64encode(":".join(basic).encode()).decode()
    response = app.test_client().post(
        "/oauth/revoke", data={"token": api.token}, headers={"Authorization": f"Basic {auth}"}
    )
    assert response.status_code == 200
    assert api.get("/me").status_code == 401


def test_unknown_paths_are_problem_documents(factory, api_for):
    api = api_for(factory.user())
    response = api.get("/nothing/here")
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert api.get("/requests/not-a-number").status_code == 404
    assert api.get("/requests/99999999999999999999").status_code == 404  # no database error
    assert api.get("/api/v1/requests/a\nb").status_code == 404
