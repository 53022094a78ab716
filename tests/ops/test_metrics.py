"""/metrics: requests by route and status, latency, tasks by state, outbox backlog, webhook
failures, in the Prometheus text format."""

from __future__ import annotations

import uuid

from prometheus_client.parser import text_string_to_metric_families


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_and_status(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/catalog/no-such-api").status_code == 404
    assert client.get(f"/no/such/page/{uuid.uuid4().hex}").status_code == 404
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("datapass_http_requests_total", method="GET", route="/healthz", status="200") == 3
    # The URL rule, not the path: no ids or typos in the labels.
    rule = "/catalog/<definition_id>"
    assert delta("datapass_http_requests_total", method="GET", route=rule, status="404") == 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert delta("datapass_http_requests_total", **unmatched) == 1
    assert not any("no/such/page" in str(key) for key in after)
    assert (
        delta("datapass_http_request_duration_seconds_count", method="GET", route="/healthz") == 3
    )
    assert delta("datapass_http_request_duration_seconds_sum", method="GET", route="/healthz") > 0


def test_outbox_backlog_and_webhook_failures_come_from_the_database(app, client, factory):
    from datapass.extensions import db
    from datapass.notifications.models import OutboxMessage, Webhook, WebhookAttempt

    baseline = scrape(client)
    with app.app_context():
        for state, channel in [
            ("pending", "email"),
            ("pending", "email"),
            ("sending", "email"),
            ("sent", "email"),
            ("failed", "webhook"),
        ]:
            db.session.add(
                OutboxMessage(
                    idempotency_key=uuid.uuid4().hex,
                    channel=channel,
                    kind="request_submitted",
                    recipient="someone@example.fr",
                    context={},
                    state=state,
                )
            )
        webhook = Webhook(
            definition_id="api_particulier",
            url="https://producer.example.fr/hook",
            events=["request.validated"],
            secret_encrypted="x",
            consecutive_failures=2,
        )
        db.session.add(webhook)
        db.session.flush()
        for success in (False, False, True):
            db.session.add(
                WebhookAttempt(webhook_id=webhook.id, event="request.validated", success=success)
            )
        db.session.commit()
    samples = scrape(client)
    assert value(baseline, "datapass_outbox_backlog", channel="email") == 0
    assert value(samples, "datapass_outbox_backlog", channel="email") == 3
    assert value(samples, "datapass_outbox_backlog", channel="webhook") == 0
    assert value(samples, "datapass_outbox_failed", channel="webhook") == 1
    assert value(samples, "datapass_webhook_failed_attempts") == 2
    assert value(samples, "datapass_webhooks_failing") == 1


SCRIPT = """
import sys
from tests.conftest import _config
from datapass import create_app
from pathlib import Path

app = create_app(_config(Path(sys.argv[1]), SQLALCHEMY_DATABASE_URI=sys.argv[2]))
client = app.test_client()
for _ in range(int(sys.argv[3])):
    assert client.get("/healthz").status_code == 200
if sys.argv[4] == "scrape":
    sys.stdout.write(client.get("/metrics").text)
"""


def test_processes_sharing_the_metrics_folder_are_summed(app, tmp_path):
    """As gunicorn's workers and the worker containers do, through PROMETHEUS_MULTIPROC_DIR."""
    import os
    import subprocess
    import sys

    from datapass.config import PROJECT_ROOT

    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(PROJECT_ROOT)}
    database = app.config["SQLALCHEMY_DATABASE_URI"]

    def run(requests: int, then: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", SCRIPT, app.config["VAR_DIR"], database, str(requests), then],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            cwd=PROJECT_ROOT,
        ).stdout

    run(2, "exit")
    text = run(3, "scrape")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    total = value(
        samples, "datapass_http_requests_total", method="GET", route="/healthz", status="200"
    )
    assert total == 5
    assert any(name.startswith("counter_") for name in os.listdir(folder))
