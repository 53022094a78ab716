"""Prometheus metrics at /metrics.

Counters and histograms live in this process (or, under gunicorn and Celery, in the files of
PROMETHEUS_MULTIPROC_DIR, summed over every process at scrape time); the outbox backlog and the
webhook failures are read from the database at scrape time, so every web process agrees.
"""

from __future__ import annotations

import os
import socket
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select


def process_identifier(pid: int | None = None) -> str:
    return f"{socket.gethostname()}-{os.getpid() if pid is None else pid}"


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    from prometheus_client import values

    # The metrics folder is shared by the web, worker and beat containers, whose process ids
    # collide (each container numbers its own): name each process's files by host and pid.
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)


HTTP_REQUESTS = Counter(
    "datapass_http_requests",
    "HTTP requests answered, by route and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "datapass_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASKS = Counter(
    "datapass_tasks",
    "Celery tasks by name and state (sent, started, succeeded, failed, retried).",
    ["task", "state"],
)


def route_of_request() -> str:
    """The URL rule, not the path: bounded cardinality (no ids in labels)."""
    return request.url_rule.rule if request.url_rule else "<unmatched>"


def init_app(app: Flask) -> None:
    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)

    @app.after_request
    def count_request(response):
        route = route_of_request()
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response


class DatabaseCollector:
    """Gauges read from the database: the outbox backlog and the webhook failures."""

    def collect(self):
        from datapass.extensions import db
        from datapass.notifications.models import (
            FAILED,
            PENDING,
            SENDING,
            OutboxMessage,
            Webhook,
            WebhookAttempt,
        )

        backlog = GaugeMetricFamily(
            "datapass_outbox_backlog",
            "Outbox messages not delivered yet (pending or being sent), by channel.",
            labels=["channel"],
        )
        failed = GaugeMetricFamily(
            "datapass_outbox_failed",
            "Outbox messages given up after their last attempt, by channel.",
            labels=["channel"],
        )
        rows = db.session.execute(
            select(OutboxMessage.channel, OutboxMessage.state, func.count())
            .where(OutboxMessage.state.in_((PENDING, SENDING, FAILED)))
            .group_by(OutboxMessage.channel, OutboxMessage.state)
        ).all()
        counts: dict[tuple[str, str], int] = {}
        for channel, state, count in rows:
            key = ("failed" if state == FAILED else "backlog", channel)
            counts[key] = counts.get(key, 0) + count
        for channel in ("email", "webhook"):
            backlog.add_metric([channel], counts.get(("backlog", channel), 0))
            failed.add_metric([channel], counts.get(("failed", channel), 0))
        yield backlog
        yield failed

        attempts = db.session.scalar(
            select(func.count())
            .select_from(WebhookAttempt)
            .where(WebhookAttempt.success.is_(False))
        )
        yield GaugeMetricFamily(
            "datapass_webhook_failed_attempts",
            "Webhook deliveries that failed (an error or a non-2xx answer), all time.",
            value=attempts or 0,
        )
        failing = db.session.scalar(
            select(func.count()).select_from(Webhook).where(Webhook.consecutive_failures > 0)
        )
        yield GaugeMetricFamily(
            "datapass_webhooks_failing",
            "Webhooks whose last delivery failed.",
            value=failing or 0,
        )


def render_metrics() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    database_registry = CollectorRegistry(auto_describe=False)
    database_registry.register(DatabaseCollector())
    body = generate_latest(process_registry) + generate_latest(database_registry)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
