"""Sentry is off unless SENTRY_DSN is set; then an unhandled error reaches the DSN's server
(here a local one) with its request id, and no personal data."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk


@pytest.fixture
def sentry_server():
    """A loopback HTTP server that keeps the envelopes posted to it."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{server.server_port}/1", received
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def sentry_off():
    yield
    sentry_sdk.get_client().close()
    sentry_sdk.init(dsn=None)  # later tests run with Sentry off


def test_without_a_dsn_sentry_stays_off(client):
    assert not sentry_sdk.get_client().is_active()


def test_an_unhandled_error_is_reported_with_its_request_id(make_app, sentry_server, sentry_off):
    dsn, received = sentry_server
    app = make_app(SENTRY_DSN=dsn)

    @app.get("/ops-test/boom")
    def boom():
        raise RuntimeError("boom for sentry")

    response = app.test_client().get(
        "/ops-test/boom", headers={"X-Request-ID": "req-sentry-1", "Cookie": "session=secret"}
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    events = []
    for envelope in received:
        for line in envelope.splitlines():
            if line.startswith(b"{") and b'"exception"' in line:
                events.append(json.loads(line))
    assert len(events) == 1
    event = events[0]
    assert event["exception"]["values"][-1]["value"] == "boom for sentry"
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["environment"] == "testing"
    assert "secret" not in json.dumps(event.get("request", {}))  # no cookies sent
