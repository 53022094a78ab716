"""No secret in the logs: a journey that issues and rotates a client secret, gets and
introspects tokens, creates an API client, a producer credential and a webhook, at DEBUG level,
with the production JSON log output on; then both the captured records and the JSON lines are
scanned for every secret and token."""

from __future__ import annotations

import base64
import logging
import re

import pytest

from datapass.ops.logs import HANDLER_NAME
from tests.notifications.servers import WebhookReceiver

SECRET_ON_PAGE = re.compile(r'data-testid="(?:client|webhook)-secret">([^<]+)<')


@pytest.fixture
def json_app(make_app):
    root = logging.getLogger()
    level = root.level
    app = make_app(LOG_FORMAT="json", LOG_LEVEL="DEBUG", WEBHOOK_ALLOW_PRIVATE=True)
    yield app
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    server.start()
    yield server
    server.stop()


def _login(app, user_id: int):
    from datapass.accounts.models import User
    from datapass.extensions import db

    with app.app_context():
        email = db.session.get(User, user_id).email
    client = app.test_client()
    assert client.post("/login", data={"email": email}).status_code == 302
    return client


def _shown_secret(response) -> str:
    assert response.status_code in (200, 201), response.status_code
    return SECRET_ON_PAGE.search(response.get_data(as_text=True)).group(1)


def _basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def test_no_secret_reaches_the_logs(json_app, receiver, caplog, capsys):
    from datapass.authorizations.models import Authorization
    from datapass.extensions import db
    from datapass.oauth.models import Credential
    from tests.factories import Factory

    caplog.set_level(logging.DEBUG)
    app, factory = json_app, Factory(json_app)
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    developer = factory.user(roles=(("developer", "api_particulier"),))
    request_id = factory.request(applicant, org, state="validated")
    with app.app_context():
        authorization = db.session.scalar(db.select(Authorization).filter_by(request_id=request_id))
        authorization_id = authorization.id
        client_id = db.session.scalar(
            db.select(Credential.client_id).filter_by(authorization_id=authorization_id)
        )
    secrets: list[str] = []

    owner = _login(app, applicant)
    url = f"/authorizations/{authorization_id}/credential/secret"
    secrets.append(_shown_secret(owner.post(url)))
    secrets.append(_shown_secret(owner.post(url)))  # rotation: the previous one stays valid

    consumer = app.test_client()
    for secret in list(secrets):
        response = consumer.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=_basic(client_id, secret),
        )
        assert response.status_code == 200
        secrets.append(response.json["access_token"])

    dev = _login(app, developer)
    producer_secret = _shown_secret(dev.post("/producers/api_particulier/credentials"))
    secrets.append(producer_secret)
    page = dev.get("/producers").get_data(as_text=True)
    producer_id = re.findall(r"<code[^>]*>(prod_[^<]+|[a-z0-9_-]{20,})</code>", page)
    for token in secrets[2:4]:
        for candidate in producer_id:
            consumer.post(
                "/oauth/introspect",
                data={"token": token},
                headers=_basic(candidate, producer_secret),
            )
    api_secret = _shown_secret(
        dev.post("/developers/clients", data={"name": "Logiciel", "scopes": ["read_requests"]})
    )
    secrets.append(api_secret)
    webhook_page = dev.post(
        "/producers/webhooks",
        data={"definition_id": "api_particulier", "url": receiver.url, "events": ["submit"]},
    )
    secrets.append(_shown_secret(webhook_page))
    # a wrong secret is logged as a failure, never echoed
    consumer.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(client_id, "mauvais-" + secrets[0]),
    )

    assert len(set(secrets)) == 7
    logs = caplog.text + "\n" + capsys.readouterr().err
    assert "datapass.access" in logs  # the JSON output was captured
    for secret in secrets:
        assert secret not in logs
        assert secret[:16] not in logs  # nor a telling prefix
    with app.app_context():
        from datapass.notifications.models import Webhook

        stored = db.session.scalar(db.select(Webhook.secret_encrypted))
    assert secrets[-1] not in stored  # encrypted at rest
