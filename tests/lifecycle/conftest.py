"""Lifecycle fixtures: a world of one organisation, its applicant, a colleague, instructors and
a producer credential; helpers that act through the pages (Flask test client) and read back.

Tokens are fetched and introspected through the real OAuth endpoints over the test client
(https base URL: Authlib refuses plain HTTP off loopback).
"""

from __future__ import annotations

import base64
import re
from functools import cached_property

import pytest
from sqlalchemy import select

from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.lifecycle.models import Event
from datapass.oauth.models import Credential
from datapass.requests.models import AuthorizationRequest

SECRET = re.compile(r'data-testid="client-secret">([^<]+)<')
CLIENT_ID = re.compile(r"<code>(dp_[0-9a-f]+)</code>")
HTTPS = "https://localhost"
DEFINITIONS = (
    "api_particulier",
    "api_droits_cnam",
    "api_impot_particulier_sandbox",
    "api_impot_particulier_production",
)


@pytest.fixture
def app(make_app):
    # No broker kick: the outbox rows are read in the database.
    app = make_app(OAUTH_KEY_RELOAD_INTERVAL=0, OAUTH_TOKEN_RATE_LIMIT=0, OUTBOX_KICK=False)
    yield app
    with app.app_context():
        db.engine.dispose()


def _basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


class World:
    """One organisation with an applicant and a colleague; instructors of DEFINITIONS."""

    def __init__(self, app, factory, login_as):
        self.app, self.factory, self.login_as = app, factory, login_as
        self.org = factory.organization()
        self.applicant = factory.user(organizations=(self.org,))
        self.colleague = factory.user(organizations=(self.org,))
        self.instructor = factory.user(roles=tuple(("instructor", d) for d in DEFINITIONS))
        self.manager = factory.user(roles=(("manager", "api_particulier"),))
        self.admin = factory.user(admin=True)
        self._clients: dict[int, object] = {}
        self._producers: dict[str, tuple[str, str]] = {}

    def client(self, user_id: int):
        if user_id not in self._clients:
            self._clients[user_id] = self.login_as(user_id)
        return self._clients[user_id]

    @cached_property
    def as_applicant(self):
        return self.client(self.applicant)

    @cached_property
    def as_instructor(self):
        return self.client(self.instructor)

    # Reading back.

    def request(self, request_id: int) -> AuthorizationRequest:
        with self.app.app_context():
            request_obj = db.session.get(AuthorizationRequest, request_id)
            _ = request_obj.documents, request_obj.organization, request_obj.applicant
            db.session.expunge_all()
            return request_obj

    def state(self, request_id: int) -> str:
        return self.request(request_id).state

    def authorizations(self, request_id: int) -> list[tuple[int, str, list[str]]]:
        with self.app.app_context():
            return [
                (a.id, a.state, list(a.scopes))
                for a in db.session.scalars(
                    select(Authorization)
                    .where(Authorization.request_id == request_id)
                    .order_by(Authorization.id)
                )
            ]

    def events(self, request_id: int) -> list[str]:
        with self.app.app_context():
            return list(
                db.session.scalars(
                    select(Event.name).where(Event.request_id == request_id).order_by(Event.id)
                )
            )

    def last_event(self, request_id: int, name: str) -> Event:
        with self.app.app_context():
            event = db.session.scalar(
                select(Event)
                .where(Event.request_id == request_id, Event.name == name)
                .order_by(Event.id.desc())
            )
            db.session.expunge_all()
            return event

    # Acting through the pages.

    def validated(self, definition_id: str = "api_particulier") -> int:
        return self.factory.request(
            self.applicant,
            self.org,
            definition_id=definition_id,
            state="validated",
            instructor_id=self.instructor,
        )

    def submit(self, request_id: int, client=None):
        return (client or self.as_applicant).post(
            f"/requests/{request_id}/summary", data={"terms_accepted": "y", "dpo_informed": "y"}
        )

    def decide(self, request_id: int, decision: str, reason: str = ""):
        version = self.request(request_id).lock_version
        return self.as_instructor.post(
            f"/instruction/requests/{request_id}/decision",
            data={"decision": decision, "reason": reason, "lock_version": version},
        )

    def choose_scopes(self, request_id: int, scopes: list[str]):
        return self.as_applicant.post(
            f"/requests/{request_id}/steps/scopes", data={"scopes": scopes, "then": "stay"}
        )

    # Credentials.

    def credential(self, authorization_id: int) -> tuple[str, str]:
        """(client_id, secret): the applicant generates the secret on the authorization page."""
        response = self.as_applicant.post(f"/authorizations/{authorization_id}/credential/secret")
        assert response.status_code == 200, response.text
        secret = SECRET.search(response.text).group(1)
        with self.app.app_context():
            client_id = db.session.scalar(
                select(Credential.client_id).where(
                    Credential.authorization_id == authorization_id, Credential.kind == "consumer"
                )
            )
        return client_id, secret

    def producer(self, definition_id: str) -> tuple[str, str]:
        if definition_id not in self._producers:
            developer = self.factory.user(roles=(("developer", definition_id),))
            response = self.client(developer).post(f"/producers/{definition_id}/credentials")
            assert response.status_code == 200, response.text
            self._producers[definition_id] = (
                CLIENT_ID.search(response.text).group(1),
                SECRET.search(response.text).group(1),
            )
        return self._producers[definition_id]

    def token(self, client_id: str, secret: str, scope: str | None = None):
        data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        return self.app.test_client().post(
            "/oauth/token", data=data, headers=_basic(client_id, secret), base_url=HTTPS
        )

    def introspect(self, token: str, definition_id: str = "api_particulier") -> dict:
        response = self.app.test_client().post(
            "/oauth/introspect",
            data={"token": token},
            headers=_basic(*self.producer(definition_id)),
            base_url=HTTPS,
        )
        assert response.status_code == 200, response.text
        return response.json


@pytest.fixture
def world(app, factory, login_as) -> World:
    return World(app, factory, login_as)
