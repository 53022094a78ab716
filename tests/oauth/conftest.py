"""OAuth fixtures: the app served over real HTTP on loopback, approved authorizations with
their secret generated through the applicant's page, producer credentials from the portal."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests
from werkzeug.serving import make_server

from datapass.oauth import clock

SECRET = re.compile(r'data-testid="client-secret">([^<]+)<')


@pytest.fixture
def app(make_app):
    # Keys reloaded on every access, so a rotation shows at once; a roomy rate limit.
    app = make_app(OAUTH_KEY_RELOAD_INTERVAL=0, OAUTH_TOKEN_RATE_LIMIT=1000)
    yield app
    with app.app_context():
        from datapass.extensions import db

        db.engine.dispose()


@pytest.fixture
def live_server(app):
    """The app behind a threaded WSGI server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def frozen_clock(monkeypatch):
    """Move the OAuth server's clock: `frozen_clock.advance(hours=25)`."""

    class Clock:
        offset = timedelta()

        def advance(self, **delta) -> None:
            self.offset += timedelta(**delta)

    fake = Clock()
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + fake.offset)
    return fake


@dataclass
class Consumer:
    request_id: int
    authorization_id: int
    applicant_id: int
    organization_id: int
    client_id: str
    client_secret: str


def secret_from(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return SECRET.search(response.text).group(1)


@pytest.fixture
def approve(app, factory, login_as):
    """An approved request of `definition_id`; the applicant then generates its secret."""

    def make(definition_id: str = "api_particulier") -> Consumer:
        from datapass.authorizations.models import Authorization
        from datapass.extensions import db
        from datapass.oauth.services import credential_for

        org = factory.organization()
        applicant = factory.user(organizations=(org,))
        request_id = factory.request(applicant, org, definition_id=definition_id, state="validated")
        with app.app_context():
            authorization = db.session.scalar(
                db.select(Authorization).filter_by(request_id=request_id)
            )
            authorization_id = authorization.id
            client_id = credential_for(authorization).client_id
        response = login_as(applicant).post(f"/authorizations/{authorization_id}/credential/secret")
        return Consumer(
            request_id, authorization_id, applicant, org, client_id, secret_from(response)
        )

    return make


@pytest.fixture
def producer(factory, login_as):
    """(client_id, secret) of a producer credential of `definition_id`, made in the portal."""

    def make(definition_id: str = "api_particulier") -> tuple[str, str]:
        developer = factory.user(roles=(("developer", definition_id),))
        response = login_as(developer).post(f"/producers/{definition_id}/credentials")
        secret = secret_from(response)
        client_id = re.search(r"<code>(dp_[0-9a-f]+)</code>", response.text).group(1)
        return client_id, secret

    return make


def post(base: str, path: str, data: dict, auth=None):
    """A raw form POST to an OAuth endpoint, to look at status codes and error bodies."""
    return requests.post(f"{base}{path}", data=data, auth=auth, timeout=5)
