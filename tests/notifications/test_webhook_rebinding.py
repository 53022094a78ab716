"""DNS rebinding: a webhook is delivered to the address checked as public at delivery time, not
to whatever a second DNS answer says; over https the certificate is still verified for the name.

DNS is the outside world here: the resolver is replaced, the TLS receiver is real."""

from __future__ import annotations

import socket
import ssl

import pytest

from datapass.notifications import webhooks
from tests.notifications.servers import WebhookReceiver
from tests.tls import make_certificate

HOST = "hooks.example.test"


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """A real HTTPS receiver for HOST on 127.0.0.1, trusted by this process's default context."""
    cert, key = make_certificate(tmp_path, (HOST,))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    receiver = WebhookReceiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    receiver.url = f"https://{HOST}:{receiver.server.server_address[1]}/hooks/datapass"
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def rebinding_dns(monkeypatch):
    """The check sees a public address (standing in: the receiver's); any later lookup of HOST
    answers another address, where nothing listens."""
    monkeypatch.setattr(webhooks, "_resolve_public", lambda host, port: "127.0.0.1")
    real = socket.getaddrinfo

    def second_answer(host, port, *args, **kwargs):
        return real("127.0.0.2" if host == HOST else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", second_answer)


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_delivery_goes_to_the_checked_address(make_app, tls_receiver, rebinding_dns, scheme):
    app = make_app(WEBHOOK_ALLOW_PRIVATE=False)
    receiver = tls_receiver
    if scheme == "http":  # the same receiver without TLS
        receiver = WebhookReceiver()
        receiver.url = f"http://{HOST}:{receiver.server.server_address[1]}/hooks/datapass"
        receiver.start()
    try:
        with app.app_context():
            response = webhooks.post(receiver.url, webhooks.new_secret(), "msg_1", {"a": 1})
        assert response.ok, response.error
        (received,) = receiver.received
        assert received["headers"]["Host"] == f"{HOST}:{receiver.server.server_address[1]}"
    finally:
        if receiver is not tls_receiver:
            receiver.stop()


def test_the_certificate_is_still_checked_for_the_name(make_app, tls_receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "_resolve_public", lambda host, port: "127.0.0.1")
    monkeypatch.delenv("SSL_CERT_FILE")  # the receiver's certificate is no longer trusted
    app = make_app(WEBHOOK_ALLOW_PRIVATE=False)
    with app.app_context():
        response = webhooks.post(tls_receiver.url, webhooks.new_secret(), "msg_1", {"a": 1})
    assert response.status_code is None
    assert "CERTIFICATE_VERIFY_FAILED" in response.error
    assert tls_receiver.received == []
