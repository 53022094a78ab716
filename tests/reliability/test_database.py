"""The database unavailable for a moment: the user gets a clear French 503 page (a problem
document on the API), nothing is half-written, and the same action works once it is back."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from datapass.extensions import db
from datapass.lifecycle.models import Event
from datapass.notifications.models import OutboxMessage
from datapass.requests.models import Message

UNAVAILABLE = "Le service est momentanément indisponible. Rien n&#39;a été enregistré"


@pytest.fixture
def sqlite_app(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("these faults are made on the SQLite file")
    with app.app_context():
        # Fail fast instead of the 5 s busy timeout of datapass.extensions: same error, sooner.
        event.listen(db.engine, "connect", _short_busy_timeout)
        db.engine.dispose()
    return app


def _short_busy_timeout(dbapi_connection, connection_record):
    dbapi_connection.execute("PRAGMA busy_timeout=200")


def _database_file(app) -> Path:
    return Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))


@contextlib.contextmanager
def database_away(app):
    """The database file is gone (a directory stands in its place) until the block ends."""
    path = _database_file(app)
    with app.app_context():
        db.engine.dispose()  # closes every connection: the WAL is checkpointed into the file
    aside = path.with_suffix(".aside")
    path.rename(aside)
    path.mkdir()
    try:
        yield
    finally:
        with app.app_context():
            db.engine.dispose()
        path.rmdir()
        aside.rename(path)


@contextlib.contextmanager
def database_locked(app):
    """Another process holds the write lock until the block ends."""
    holder = sqlite3.connect(_database_file(app), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _write_lock_refused(app) -> str | None:
    """Why another connection could not take the write lock within 0.2 s, or None if it could."""
    other_writer = sqlite3.connect(_database_file(app), timeout=0.2)
    try:
        other_writer.execute("BEGIN IMMEDIATE")
        other_writer.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other_writer.close()
    return None


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Message, Event, OutboxMessage)
        )


@pytest.fixture
def submitted(factory):
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    factory.user(roles=(("instructor", "api_particulier"),))  # the message's other side
    return applicant, factory.request(applicant, org, state="submitted")


def test_a_page_while_the_database_is_away_is_a_clear_french_503(sqlite_app, login_as, submitted):
    applicant, request_id = submitted
    client = login_as(applicant)
    with database_away(sqlite_app):
        response = client.get(f"/requests/{request_id}")
        assert response.status_code == 503
        assert UNAVAILABLE in response.get_data(as_text=True)
        assert response.headers["Retry-After"] == "30"
        assert response.headers["Content-Security-Policy"]
    assert client.get(f"/requests/{request_id}").status_code == 200  # back, still signed in


def test_a_message_posted_while_the_database_is_locked_writes_nothing(
    sqlite_app, login_as, submitted
):
    applicant, request_id = submitted
    client = login_as(applicant)
    before = _counts(sqlite_app)
    with database_locked(sqlite_app):
        response = client.post(
            f"/requests/{request_id}/messages", data={"body": "Voici la délibération."}
        )
        assert response.status_code == 503
        assert UNAVAILABLE in response.get_data(as_text=True)
    assert _counts(sqlite_app) == before  # no message, no event, no notification

    response = client.post(
        f"/requests/{request_id}/messages", data={"body": "Voici la délibération."}
    )
    assert response.status_code == 302
    messages, events, outbox = _counts(sqlite_app)
    assert (messages, events) == (before[0] + 1, before[1] + 1)
    assert outbox > before[2]


def test_the_api_answers_a_problem_document_while_the_database_is_away(
    sqlite_app, factory, submitted
):
    import base64

    from datapass.accounts.models import User
    from datapass.developers.services import create_api_client

    applicant, request_id = submitted
    with sqlite_app.app_context():
        credential, secret = create_api_client(
            db.session.get(User, applicant), "Logiciel", ["read_requests"]
        )
        db.session.commit()
        basic = base64.b64encode(f"{credential.client_id}:{secret}".encode()).decode()
    client = sqlite_app.test_client()
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with database_away(sqlite_app):
        response = client.get(f"/api/v1/requests/{request_id}", headers=headers)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "unavailable"
    assert client.get(f"/api/v1/requests/{request_id}", headers=headers).status_code == 200


def _basic(client_id: str, secret: str) -> dict:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_introspection_while_the_database_is_away_is_an_oauth_503_then_works(
    sqlite_app, approve, producer
):
    consumer = approve()
    producer_headers = _basic(*producer())
    client = sqlite_app.test_client()
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(consumer.client_id, consumer.client_secret),
    ).json["access_token"]
    with database_away(sqlite_app):
        response = client.post("/oauth/introspect", data={"token": token}, headers=producer_headers)
    assert response.status_code == 503
    assert response.json["error"] == "temporarily_unavailable"
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    response = client.post("/oauth/introspect", data={"token": token}, headers=producer_headers)
    assert response.json["active"] is True


def test_a_driver_error_on_the_introspection_lookup_is_sqlalchemys_and_hides_the_hash(sqlite_app):
    from sqlalchemy.exc import OperationalError

    from datapass.oauth.introspection import _Lookup, find_introspected_token

    with sqlite_app.app_context():
        lookup = _Lookup(db.engine.dialect)
        lookup.sql = "SELECT 1 FROM no_such_table WHERE token_hash = ?"
        with pytest.raises(OperationalError) as raised:
            lookup(db.engine, "f" * 64)
        assert "no_such_table" in str(raised.value)
        assert "f" * 64 not in str(raised.value)  # parameters hidden from logs
        assert find_introspected_token("an unknown token") is None  # the pool still serves


def test_a_webhook_test_ping_does_not_hold_the_database_while_it_waits(
    sqlite_app, login_as, factory
):
    """Creating a webhook pings it (up to WEBHOOK_TIMEOUT): meanwhile other users must still be
    able to write, so the ping runs outside any write transaction."""
    import threading

    from datapass.notifications.models import Webhook, WebhookAttempt
    from tests.reliability.test_webhook_faults import HangingReceiver

    sqlite_app.config["WEBHOOK_TIMEOUT"] = 2
    receiver = HangingReceiver()
    client = login_as(factory.user(roles=(("developer", "api_particulier"),)))
    answers = []
    creating = threading.Thread(
        target=lambda: answers.append(
            client.post(
                "/producers/webhooks",
                data={"definition_id": "api_particulier", "url": receiver.url, "events": "submit"},
            )
        )
    )
    try:
        creating.start()
        deadline = time.monotonic() + 5
        while not receiver.connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.connections, "the ping never reached the receiver"
        assert _write_lock_refused(sqlite_app) is None  # the ping holds no write lock
        creating.join(10)
    finally:
        receiver.stop()
    (response,) = answers
    assert response.status_code == 201
    with sqlite_app.app_context():
        hook = db.session.scalars(select(Webhook)).one()
        assert not hook.enabled  # the ping timed out: created, kept disabled
        attempt = db.session.scalars(select(WebhookAttempt).filter_by(webhook_id=hook.id)).one()
        assert attempt.event == "ping" and not attempt.success


def test_signing_in_does_not_hold_the_database_while_the_register_answers(sqlite_app, monkeypatch):
    """The first sign-in of an agent asks the company register about its SIRET (seconds, at
    worst): other users must still be able to write meanwhile."""
    from datapass.accounts import directory, oidc

    locked_out = []

    class SlowRegister:
        def lookup(self, siret):
            locked_out.append(_write_lock_refused(sqlite_app))
            return directory.SandboxDirectory().lookup(siret)

    monkeypatch.setattr(directory, "company_directory", SlowRegister)
    claims = {"sub": "agent-1", "email": "agent@clamart.fr", "siret": "21920023500014"}
    with sqlite_app.test_request_context():
        user, warnings = oidc.sign_in_from_claims(claims)
        db.session.commit()
        assert warnings == []
        assert [m.organization.siret for m in user.memberships] == ["21920023500014"]
    assert locked_out == [None]


def test_scanning_an_upload_does_not_hold_the_database(sqlite_app, login_as, factory):
    """The malware scan of a PDF may take seconds (a remote scanner): the step's other changes
    are written only after it, so other users can still write meanwhile."""
    import io

    locked_out = []

    def slow_scanner(content, filename):
        locked_out.append(_write_lock_refused(sqlite_app))
        return None  # clean

    sqlite_app.config["DOCUMENT_SCANNER"] = slow_scanner
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org)
    response = login_as(applicant).post(
        f"/requests/{request_id}/steps/legal",
        data={
            "cadre_juridique_nature": "Délibération du conseil municipal n° 2024-12",
            "documents": [
                (io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "d.pdf")
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert locked_out == [None]
    with sqlite_app.app_context():
        from datapass.requests.models import AuthorizationRequest

        request_obj = db.session.get(AuthorizationRequest, request_id)
        assert [d.filename for d in request_obj.documents] == ["d.pdf"]
        assert request_obj.data["cadre_juridique_nature"].startswith("Délibération")
