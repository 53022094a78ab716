"""A webhook receiver that answers 500, or hangs: the delivery is retried until accepted, every
attempt carries the same webhook-id, and once accepted it is never sent again."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import select

from datapass.accounts.models import User
from datapass.extensions import db
from datapass.notifications.models import SENT, OutboxMessage, Webhook, WebhookAttempt
from tests.notifications.servers import wait_for


class HangingReceiver:
    """Accepts connections and never answers (a receiver stuck on its database, say)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks/datapass"
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(connection)

    def stop(self):
        self.sock.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def hanging():
    receiver = HangingReceiver()
    yield receiver
    receiver.stop()


def _webhook(stack, definition_id: str) -> int:
    """A webhook created through the portal (pinged, enabled) for `definition_id`'s submits."""
    developer = stack.factory.user(roles=(("developer", definition_id),))
    client = stack.app.test_client()
    with stack.app.app_context():
        email = db.session.get(User, developer).email
    assert client.post("/login", data={"email": email}).status_code == 302
    response = client.post(
        "/producers/webhooks",
        data={"definition_id": definition_id, "url": stack.receiver.url, "events": ["submit"]},
    )
    assert response.status_code == 201
    with stack.app.app_context():
        hook = db.session.scalars(select(Webhook).filter_by(definition_id=definition_id)).one()
        assert hook.enabled
        return hook.id


def _submitted(stack, definition_id: str) -> int:
    org = stack.factory.organization()
    applicant = stack.factory.user(organizations=(org,))
    return stack.factory.request(applicant, org, definition_id=definition_id, state="submitted")


def _received(stack, request_id: int) -> list[dict]:
    return [r for r in stack.receiver.events("submit") if r["json"]["data"]["id"] == request_id]


def _row(stack, hook_id: int, request_id: int) -> OutboxMessage:
    with stack.app.app_context():
        attempt_rows = db.session.scalars(
            select(OutboxMessage).filter_by(webhook_id=hook_id, kind="submit")
        ).all()
        rows = [r for r in attempt_rows if r.context.get("request_id", request_id) == request_id]
        (row,) = rows
        db.session.expunge(row)
        return row


def _attempts(stack, hook_id: int, request_id: int) -> list[WebhookAttempt]:
    with stack.app.app_context():
        attempts = db.session.scalars(
            select(WebhookAttempt)
            .filter_by(webhook_id=hook_id, request_id=request_id, event="submit")
            .order_by(WebhookAttempt.id)
        ).all()
        for attempt in attempts:
            db.session.expunge(attempt)
        return attempts


def _settles(stack, request_id: int) -> list[dict]:
    """What the receiver got, once nothing more comes for a few relay intervals."""
    time.sleep(4 * stack.app.config["OUTBOX_RELAY_INTERVAL"])
    return _received(stack, request_id)


def test_a_receiver_answering_500_gets_the_event_retried_until_accepted_then_never_again(stack):
    hook_id = _webhook(stack, "api_particulier")
    stack.receiver.status = 500
    try:
        request_id = _submitted(stack, "api_particulier")
        wait_for(
            lambda: len(_attempts(stack, hook_id, request_id)) >= 1,
            what="a first refused delivery",
        )
    finally:
        stack.receiver.status = 200
    wait_for(lambda: _row(stack, hook_id, request_id).state == SENT, what="the delivery")

    received = _settles(stack, request_id)
    attempts = _attempts(stack, hook_id, request_id)
    assert [a.success for a in attempts].count(True) == 1  # accepted once, never sent again
    assert attempts[-1].success and attempts[0].status_code == 500
    assert len(received) == len(attempts)  # every attempt reached it, no extra copy
    assert len({r["headers"]["webhook-id"] for r in received}) == 1  # one idempotency key


def test_a_hanging_receiver_times_out_and_the_event_is_delivered_once_it_answers(stack, hanging):
    hook_id = _webhook(stack, "api_entreprise")
    with stack.app.app_context():
        db.session.get(Webhook, hook_id).url = hanging.url
        db.session.commit()
    request_id = _submitted(stack, "api_entreprise")
    wait_for(
        lambda: _attempts(stack, hook_id, request_id),
        timeout=20,
        what="a timed-out delivery",
    )
    (timed_out, *_) = _attempts(stack, hook_id, request_id)
    assert not timed_out.success and timed_out.status_code is None
    assert timed_out.duration_ms >= 0.9 * stack.app.config["WEBHOOK_TIMEOUT"] * 1000
    with stack.app.app_context():
        db.session.get(Webhook, hook_id).url = stack.receiver.url
        db.session.commit()

    wait_for(lambda: _row(stack, hook_id, request_id).state == SENT, timeout=30, what="delivery")
    received = _settles(stack, request_id)
    assert len(received) == 1
    attempts = _attempts(stack, hook_id, request_id)
    assert [a.success for a in attempts].count(True) == 1
    with stack.app.app_context():
        assert db.session.get(Webhook, hook_id).enabled  # one slow answer does not disable it
