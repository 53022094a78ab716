"""Introspection (RFC 7662), revocation (RFC 7009) and the authorization's state, over HTTP."""

from __future__ import annotations

import requests

from tests.oauth.conftest import post, secret_from
from tests.oauth.test_tokens import fetch


def introspect(base: str, token: str, auth) -> requests.Response:
    return requests.post(f"{base}/oauth/introspect", data={"token": token}, auth=auth, timeout=5)


def events(app, authorization_id: int) -> list[str]:
    from datapass.extensions import db
    from datapass.lifecycle.models import Event

    with app.app_context():
        return list(
            db.session.scalars(
                db.select(Event.name)
                .where(Event.authorization_id == authorization_id)
                .order_by(Event.id)
            )
        )


def test_the_producer_of_the_api_introspects_its_tokens(live_server, approve, producer):
    consumer = approve()
    token = fetch(live_server, consumer, scope="cnaf_quotient_familial")["access_token"]
    body = introspect(live_server, token, producer("api_particulier")).json()
    assert body["active"] is True
    assert body["scope"] == "cnaf_quotient_familial"
    assert body["client_id"] == consumer.client_id
    assert body["aud"] == "api_particulier"
    assert body["iss"] == live_server
    assert body["exp"] - body["iat"] == 3600
    assert body["authorization_id"] == consumer.authorization_id


def test_tokens_of_another_api_read_inactive(live_server, approve, producer):
    token = fetch(live_server, approve())["access_token"]
    response = introspect(live_server, token, producer("api_entreprise"))
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_unknown_or_forged_tokens_read_inactive(live_server, producer):
    auth = producer()
    assert introspect(live_server, "not-a-token", auth).json() == {"active": False}
    forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
    assert introspect(live_server, forged, auth).json() == {"active": False}


def test_only_producer_credentials_may_introspect(live_server, approve):
    consumer = approve()
    token = fetch(live_server, consumer)["access_token"]
    for auth in (None, (consumer.client_id, consumer.client_secret), ("dp_nobody", "x")):
        response = introspect(live_server, token, auth)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


def test_a_revoked_producer_credential_no_longer_introspects(
    live_server, approve, factory, login_as, app
):
    from datapass.extensions import db
    from datapass.oauth.models import Credential

    developer = factory.user(roles=(("developer", "api_particulier"),))
    portal = login_as(developer)
    response = portal.post("/producers/api_particulier/credentials")
    secret = secret_from(response)
    with app.app_context():
        credential = db.session.scalar(db.select(Credential).where(Credential.kind == "producer"))
        credential_id, client_id = credential.id, credential.client_id
    token = fetch(live_server, approve())["access_token"]
    assert introspect(live_server, token, (client_id, secret)).json()["active"] is True
    assert portal.post(f"/producers/credentials/{credential_id}/revoke").status_code == 302
    assert introspect(live_server, token, (client_id, secret)).status_code == 401


def test_revocation_makes_the_token_inactive(live_server, approve, producer, app):
    consumer = approve()
    auth = producer()
    token = fetch(live_server, consumer)["access_token"]
    other = fetch(live_server, consumer)["access_token"]
    response = post(
        live_server,
        "/oauth/revoke",
        {"token": token, "token_type_hint": "access_token"},
        (consumer.client_id, consumer.client_secret),
    )
    assert response.status_code == 200
    assert introspect(live_server, token, auth).json() == {"active": False}
    assert introspect(live_server, other, auth).json()["active"] is True
    assert "revoke_token" in events(app, consumer.authorization_id)
    # RFC 7009 2.2: an unknown or already revoked token is answered 200 too.
    for again in (token, "unknown"):
        response = post(
            live_server,
            "/oauth/revoke",
            {"token": again},
            (consumer.client_id, consumer.client_secret),
        )
        assert response.status_code == 200


def test_a_client_cannot_revoke_another_clients_token(live_server, approve, producer):
    victim, attacker = approve(), approve()
    token = fetch(live_server, victim)["access_token"]
    response = post(
        live_server, "/oauth/revoke", {"token": token}, (attacker.client_id, attacker.client_secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert introspect(live_server, token, producer()).json()["active"] is True


def _end_authorization(app, authorization_id: int, trigger: str) -> None:
    """What revocation or a new validation does to the authorization (AuthorizationFlow)."""
    from datapass.authorizations.models import Authorization
    from datapass.extensions import db
    from workflows.machines import AuthorizationFlow

    with app.app_context():
        authorization = db.session.get(Authorization, authorization_id)
        authorization.state = AuthorizationFlow(authorization.state).fire(trigger)
        db.session.commit()


def test_an_authorization_no_longer_active_stops_its_credential(
    live_server, approve, producer, app
):
    for trigger in ("deprecate", "revoke"):
        consumer = approve()
        auth = producer()
        token = fetch(live_server, consumer)["access_token"]
        assert introspect(live_server, token, auth).json()["active"] is True

        _end_authorization(app, consumer.authorization_id, trigger)

        assert introspect(live_server, token, auth).json() == {"active": False}
        response = post(
            live_server,
            "/oauth/token",
            {"grant_type": "client_credentials"},
            (consumer.client_id, consumer.client_secret),
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"


def test_an_expired_authorization_stops_its_credential(
    live_server, approve, producer, frozen_clock
):
    consumer = approve("api_impot_particulier_production")  # valid 1095 days
    auth = producer("api_impot_particulier_production")
    token = fetch(live_server, consumer)["access_token"]
    assert introspect(live_server, token, auth).json()["active"] is True
    frozen_clock.advance(days=1096)
    assert introspect(live_server, token, auth).json() == {"active": False}
    response = post(
        live_server,
        "/oauth/token",
        {"grant_type": "client_credentials"},
        (consumer.client_id, consumer.client_secret),
    )
    assert response.json()["error"] == "invalid_grant"


def test_an_expired_token_reads_inactive(live_server, approve, producer, frozen_clock):
    consumer = approve()
    auth = producer()
    token = fetch(live_server, consumer)["access_token"]
    frozen_clock.advance(seconds=3601)
    assert introspect(live_server, token, auth).json() == {"active": False}


def test_issue_and_secret_are_in_the_audit_trail(app, approve):
    consumer = approve()
    assert events(app, consumer.authorization_id) == [
        "issue_authorization",
        "issue_credential",
        "generate_secret",
    ]


def test_the_lookup_returns_its_connection_to_the_pool_transactional(app):
    """On a server database the lookup reads in autocommit (no BEGIN/ROLLBACK round trips);
    the connection must go back to the pool as it came, or later writes would not be atomic."""
    import pytest
    from sqlalchemy import event

    from datapass.extensions import db
    from datapass.oauth.introspection import find_introspected_token

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            pytest.skip("SQLite reads outside a transaction already")
        returned = []

        def on_checkin(dbapi_connection, record):
            returned.append(dbapi_connection.autocommit)

        event.listen(engine, "checkin", on_checkin)
        try:
            assert find_introspected_token("an unknown token") is None
        finally:
            event.remove(engine, "checkin", on_checkin)
        assert returned == [False]
