"""Sign-in with OpenID Connect (ProConnect in production) through Authlib's Flask client.

Authorization code flow with PKCE (S256); Authlib keeps state, nonce and code verifier in the
session and checks them on the way back (state matches, id_token signature, iss, aud, exp, nonce).
ProConnect answers userinfo as a signed JWT; other providers as JSON: both are accepted.
"""

from __future__ import annotations

from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from datapass.accounts import directory
from datapass.accounts.models import Membership, Organization, User
from datapass.accounts.siret import InvalidSiret
from datapass.extensions import db
from datapass.models_base import utcnow

CLIENT_NAME = "oidc"


class SignInError(Exception):
    """Sign-in refused or failed; the message is French, shown as is."""


def init_app(app: Flask) -> None:
    """One Authlib registry per app (tests build several apps with different providers)."""
    if not app.config["OIDC_ISSUER"]:
        return
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"].rstrip("/")
        + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256"},
    )
    app.extensions["datapass_oidc"] = oauth


def is_enabled() -> bool:
    return "datapass_oidc" in current_app.extensions


def client():
    return current_app.extensions["datapass_oidc"].create_client(CLIENT_NAME)


# What can go wrong on the way back: a tampered or replayed state, an expired or reused code,
# a bad id_token (signature, issuer, audience, nonce), the provider unreachable.
def _provider_errors() -> tuple[type[Exception], ...]:
    import requests

    return (AuthlibBaseError, JoseError, requests.RequestException, KeyError, ValueError)


def fetch_identity() -> dict[str, Any]:
    """Finish the code flow on the callback request; returns the claims (id_token + userinfo)."""
    oidc = client()
    try:
        token = oidc.authorize_access_token()
        claims = dict(token["userinfo"])
        userinfo = _fetch_userinfo(oidc, token)
    except _provider_errors() as exc:
        current_app.logger.warning("OpenID Connect sign-in failed: %r", exc)
        raise SignInError(
            "La connexion a échoué ou a expiré. Recommencez depuis la page de connexion."
        ) from exc
    if userinfo.get("sub") != claims.get("sub"):
        raise SignInError("Le fournisseur d'identité a renvoyé une identité incohérente.")
    claims.update(userinfo)
    claims["_id_token"] = token["id_token"]
    return claims


def _fetch_userinfo(oidc, token: dict) -> dict[str, Any]:
    import requests

    metadata = oidc.load_server_metadata()
    # Called right after the exchange: ProConnect's access tokens live 60 s, which Authlib's
    # session (60 s leeway) would already take for expired.
    response = requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    response.raise_for_status()
    if response.headers.get("Content-Type", "").startswith("application/jwt"):
        key_set = KeySet.import_key_set(oidc.fetch_jwk_set())
        decoded = jwt.decode(response.text.strip(), key_set)
        claims = decoded.claims
        if claims.get("iss", metadata["issuer"]) != metadata["issuer"]:
            raise ValueError("userinfo issued by another issuer")
        return dict(claims)
    return dict(response.json())


def sign_in_from_claims(claims: dict[str, Any]) -> tuple[User, list[str]]:
    """The user the identity provider vouches for, created or updated; plus warnings to show.

    The SIRET claim attaches the user to that organisation, as a membership verified by the
    identity provider, and makes it the current one.
    """
    sub, email = claims.get("sub"), (claims.get("email") or "").strip().lower()
    if not sub or not email:
        raise SignInError("Le fournisseur d'identité n'a pas transmis votre adresse électronique.")
    # The company register is asked before anything is written: no write transaction (on
    # SQLite, the database's only write lock) stays open while it answers.
    organization, warnings = None, []
    if claims.get("siret"):
        try:
            organization = directory.organization_for_siret(str(claims["siret"]))
        except (InvalidSiret, directory.DirectoryError) as exc:
            warnings.append(f"Organisation non rattachée : {exc}")
    user = db.session.scalar(select(User).where(User.oidc_sub == sub))
    if user is None:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.oidc_sub not in (None, sub):
            raise SignInError("Cette adresse électronique est déjà liée à une autre identité.")
    if user is None:
        user = User(email=email, given_name="", family_name="")
        db.session.add(user)
    if user.is_banned:
        raise SignInError("Votre compte est suspendu. Contactez l'équipe datapass.")
    if user.email != email and db.session.scalar(select(User.id).where(User.email == email)):
        raise SignInError("Votre nouvelle adresse électronique est déjà celle d'un autre compte.")
    user.oidc_sub = sub
    user.email = email
    user.given_name = claims.get("given_name") or user.given_name or email
    user.family_name = claims.get("usual_name") or claims.get("family_name") or user.family_name
    user.job_title = claims.get("job_title") or user.job_title or ""
    user.phone_number = claims.get("phone_number") or user.phone_number or ""
    user.last_acr = claims.get("acr")
    amr = claims.get("amr")
    user.last_amr = list(amr) if isinstance(amr, list | tuple) else ([amr] if amr else None)
    user.last_sign_in_at = utcnow()
    db.session.flush()
    if organization is not None:
        attach_verified_organization(user, organization)
    return user, warnings


def attach_verified_organization(user: User, organization: Organization) -> Membership:
    membership = user.membership_in(organization.id)
    if membership is None:
        membership = Membership(organization=organization)
        user.memberships.append(membership)
    if not membership.verified:
        membership.verified = True
        membership.verified_by = "identity_provider"
        membership.verification_reason = "SIRET transmis par le fournisseur d'identité"
        membership.verified_at = utcnow()
    user.current_organization_id = organization.id
    db.session.flush()
    return membership
