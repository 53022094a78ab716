"""Rotating the signing key (CLI, no restart) and a credential's secret (grace period)."""

from __future__ import annotations

import pytest
import requests
from joserfc.errors import BadSignatureError, InvalidKeyIdError
from joserfc.jwk import KeySet

from tests.oauth.conftest import post, secret_from
from tests.oauth.test_tokens import fetch, verify


def kid_of(base: str, access_token: str) -> str:
    return verify(base, access_token).header["kid"]


def published_kids(base: str) -> list[str]:
    return [k["kid"] for k in requests.get(f"{base}/.well-known/jwks.json").json()["keys"]]


def test_key_rotation_keeps_old_tokens_verifiable(live_server, app, approve):
    consumer = approve()
    old_token = fetch(live_server, consumer)["access_token"]
    old_kid = kid_of(live_server, old_token)
    assert published_kids(live_server) == [old_kid]

    result = app.test_cli_runner().invoke(args=["rotate-signing-key"])
    assert result.exit_code == 0, result.output

    new_token = fetch(live_server, consumer)["access_token"]
    new_kid = kid_of(live_server, new_token)
    assert new_kid != old_kid
    assert published_kids(live_server) == [new_kid, old_kid]  # current first
    assert kid_of(live_server, old_token) == old_kid  # still verifies with the previous key

    # A second rotation drops the oldest key: its tokens no longer verify locally.
    app.test_cli_runner().invoke(args=["rotate-signing-key"])
    assert old_kid not in published_kids(live_server)
    with pytest.raises(InvalidKeyIdError):
        verify(live_server, old_token)


def test_rotation_is_recorded(app):
    from datapass.extensions import db
    from datapass.lifecycle.models import Event

    app.test_cli_runner().invoke(args=["rotate-signing-key"])
    with app.app_context():
        assert db.session.scalar(db.select(Event.name).order_by(Event.id.desc())) == (
            "rotate_signing_key"
        )


def test_a_token_signed_by_another_key_does_not_verify(live_server, approve):
    from joserfc import jwt
    from joserfc.jwk import ECKey

    token = fetch(live_server, approve())["access_token"]
    claims = verify(live_server, token).claims
    rogue = ECKey.generate_key("P-256", auto_kid=True)
    forged = jwt.encode({"alg": "ES256", "kid": published_kids(live_server)[0]}, claims, rogue)
    keys = KeySet.import_key_set(requests.get(f"{live_server}/.well-known/jwks.json").json())
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, keys, algorithms=["ES256"])


def test_secret_rotation_keeps_the_old_secret_during_the_grace_period(
    live_server, app, approve, login_as, frozen_clock
):
    consumer = approve()
    old_secret = consumer.client_secret
    applicant = login_as(consumer.applicant_id)
    response = applicant.post(f"/authorizations/{consumer.authorization_id}/credential/secret")
    new_secret = secret_from(response)
    assert new_secret != old_secret

    fetch(live_server, consumer)  # the old one during the grace period
    consumer.client_secret = new_secret
    fetch(live_server, consumer)

    frozen_clock.advance(hours=24, seconds=1)
    fetch(live_server, consumer)  # the new one still works
    response = post(
        live_server,
        "/oauth/token",
        {"grant_type": "client_credentials"},
        (consumer.client_id, old_secret),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"

    from tests.oauth.test_introspection import events

    assert events(app, consumer.authorization_id)[-2:] == ["generate_secret", "rotate_secret"]


def test_grace_period_is_configurable(make_app, factory, frozen_clock):
    from datapass.authorizations.models import Authorization
    from datapass.extensions import db
    from datapass.oauth import services
    from datapass.oauth.hashing import secret_matches

    app = make_app(OAUTH_SECRET_GRACE_PERIOD=60)
    org = factory.organization()
    applicant_id = factory.user(organizations=(org,))
    request_id = factory.request(applicant_id, org, state="validated")
    with app.app_context():
        from datapass.accounts.models import User

        applicant = db.session.get(User, applicant_id)
        authorization = db.session.scalar(db.select(Authorization).filter_by(request_id=request_id))
        credential = services.credential_for(authorization)
        first = services.renew_secret(credential, applicant)
        services.renew_secret(credential, applicant)
        assert secret_matches(credential, first)
        frozen_clock.advance(seconds=61)
        assert not secret_matches(credential, first)
        db.session.rollback()
