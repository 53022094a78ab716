"""OpenID Connect sign-in against a real provider on loopback (tests/accounts/oidc_provider.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from datapass.accounts.models import Organization, User
from datapass.extensions import db
from tests.accounts.conftest import IDENTITY, callback_path, query_of, sign_in, visit_provider
from tests.factories import Factory


def _user(app, email="jeanne.dupont@clamart.fr") -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            _ = user.memberships, user.roles
            db.session.expunge(user)
        return user


def test_authorization_request_uses_pkce_state_and_nonce(oidc_app, provider):
    oidc_app.config["OIDC_ACR_VALUES"] = "eidas1"
    response = oidc_app.test_client().get("/login/oidc")
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(f"{provider.issuer}/authorize?")
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) >= 43
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20
    assert params["redirect_uri"] == "http://localhost/login/oidc/callback"
    assert params["acr_values"] == "eidas1"
    assert set(params["scope"].split()) >= {"openid", "email", "siret"}


def test_sign_in_creates_the_user_attached_to_its_verified_organisation(oidc_app, provider):
    client = oidc_app.test_client()
    response = sign_in(client, next_path="/requests")
    assert response.status_code == 302
    assert response.headers["Location"] == "/requests"

    user = _user(oidc_app)
    assert user.oidc_sub == IDENTITY["sub"]
    assert (user.given_name, user.family_name) == ("Jeanne", "Dupont")
    assert user.last_acr == "eidas1" and user.last_amr == ["pwd", "mfa"]
    [membership] = user.memberships
    assert membership.organization.siret == "21920023500014"
    assert membership.organization.name == "COMMUNE DE CLAMART"  # from the register's sandbox
    assert membership.organization.legal_form == "Commune et commune nouvelle"
    assert membership.verified and membership.verified_by == "identity_provider"
    assert user.current_organization_id == membership.organization_id

    page = client.get("/organizations")
    assert "Appartenance vérifiée par le fournisseur d'identité" in unescape(page.text)
    assert 'data-testid="current-user">Jeanne Dupont' in unescape(page.text)


def test_second_sign_in_finds_the_same_user_by_subject(oidc_app, provider):
    sign_in(oidc_app.test_client())
    provider.identity["email"] = "jeanne.dupont@nouvelle-adresse.fr"
    provider.identity["amr"] = ["pwd"]
    sign_in(oidc_app.test_client())
    with oidc_app.app_context():
        users = db.session.scalars(select(User).where(User.oidc_sub == IDENTITY["sub"])).all()
        assert [u.email for u in users] == ["jeanne.dupont@nouvelle-adresse.fr"]
        assert users[0].last_amr == ["pwd"]
        assert len(users[0].memberships) == 1


def test_userinfo_as_plain_json_is_accepted(oidc_app, provider):
    provider.userinfo_as_jwt = False
    response = sign_in(oidc_app.test_client())
    assert response.status_code == 302
    assert _user(oidc_app) is not None


def _refused(app, response) -> None:
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert _user(app) is None


def test_tampered_state_is_refused(oidc_app, provider):
    client = oidc_app.test_client()
    start = client.get("/login/oidc")
    back = visit_provider(start.headers["Location"])
    state = query_of(back)["state"]
    response = client.get(callback_path(back).replace(state, state[:-2] + "xx"))
    _refused(oidc_app, response)
    page = client.get("/login")
    assert "La connexion a échoué ou a expiré" in unescape(page.text)


def test_callback_from_another_browser_is_refused(oidc_app, provider):
    start = oidc_app.test_client().get("/login/oidc")
    back = visit_provider(start.headers["Location"])
    _refused(oidc_app, oidc_app.test_client().get(callback_path(back)))


def test_wrong_nonce_is_refused(oidc_app, provider):
    provider.nonce_override = "a-nonce-from-another-authentication"
    _refused(oidc_app, sign_in(oidc_app.test_client()))


def test_expired_code_is_refused(oidc_app, provider):
    provider.code_lifetime = 0.2
    client = oidc_app.test_client()
    start = client.get("/login/oidc")
    back = visit_provider(start.headers["Location"])
    time.sleep(0.4)
    _refused(oidc_app, client.get(callback_path(back)))


def test_replayed_callback_is_refused(oidc_app, provider):
    client = oidc_app.test_client()
    start = client.get("/login/oidc")
    back = visit_provider(start.headers["Location"])
    assert client.get(callback_path(back)).headers["Location"] == "/"
    client.post("/logout")
    assert client.get(callback_path(back)).headers["Location"] == "/login"


def test_provider_error_is_shown(oidc_app, provider):
    client = oidc_app.test_client()
    client.get("/login/oidc")
    response = client.get("/login/oidc/callback?error=access_denied&state=x")
    assert response.headers["Location"] == "/login"


def test_invalid_siret_claim_signs_in_without_organisation(oidc_app, provider):
    provider.identity["siret"] = "21920023500015"
    client = oidc_app.test_client()
    response = sign_in(client)
    assert response.status_code == 302
    user = _user(oidc_app)
    assert user.memberships == []
    page = client.get("/organizations")
    assert "Organisation non rattachée" in unescape(page.text)
    assert "SIRET est invalide" in unescape(page.text)
    with oidc_app.app_context():
        assert (
            db.session.scalar(select(Organization).where(Organization.siret.like("2192%"))) is None
        )


def test_banned_user_cannot_sign_in(oidc_app, provider, factory):
    user_id = factory.user(email="jeanne.dupont@clamart.fr")
    with oidc_app.app_context():
        from datapass.models_base import utcnow

        db.session.get(User, user_id).banned_at = utcnow()
        db.session.commit()
    _refused_banned = sign_in(oidc_app.test_client())
    assert _refused_banned.headers["Location"] == "/login"
    assert _user(oidc_app).oidc_sub is None


def test_logout_ends_every_session_and_the_provider_one(oidc_app, provider):
    first, second = oidc_app.test_client(), oidc_app.test_client()
    sign_in(first)
    sign_in(second)
    assert second.get("/requests").status_code == 200

    response = first.post("/logout")
    assert response.status_code == 302
    end = response.headers["Location"]
    assert end.startswith(f"{provider.issuer}/session/end?")
    params = query_of(end)
    assert params["post_logout_redirect_uri"] == "http://localhost/logout/callback"
    assert params["id_token_hint"].count(".") == 2
    back = visit_provider(end)
    assert first.get(callback_path(back)).headers["Location"] == "/"
    assert len(provider.logouts) == 1

    assert first.get("/requests").status_code == 302  # signed out here
    assert second.get("/requests").status_code == 302  # and in the other browser


def test_session_expires_without_activity_and_is_renewed_by_it(make_app):
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(seconds=2))
    user_id = Factory(app).user()
    client = app.test_client()
    with app.app_context():
        email = db.session.get(User, user_id).email
    assert client.post("/login", data={"email": email}).status_code == 302
    for _ in range(3):  # activity keeps it alive past the lifetime
        time.sleep(0.9)
        assert client.get("/requests").status_code == 200
    time.sleep(3.5)  # itsdangerous counts whole seconds
    assert client.get("/requests").status_code == 302


def test_email_taken_by_another_account_is_refused(oidc_app, provider, factory):
    sign_in(oidc_app.test_client())
    factory.user(email="taken@example.gouv.fr")
    provider.identity["email"] = "taken@example.gouv.fr"
    response = sign_in(oidc_app.test_client())
    assert response.headers["Location"] == "/login"
    assert _user(oidc_app).oidc_sub == IDENTITY["sub"]  # unchanged
    assert _user(oidc_app, "taken@example.gouv.fr").oidc_sub is None


def test_existing_account_is_linked_by_email_once(oidc_app, provider, factory):
    user_id = factory.user(email="jeanne.dupont@clamart.fr")
    sign_in(oidc_app.test_client())
    assert _user(oidc_app).id == user_id and _user(oidc_app).oidc_sub == IDENTITY["sub"]
    provider.identity["sub"] = "another-subject"
    assert sign_in(oidc_app.test_client()).headers["Location"] == "/login"
