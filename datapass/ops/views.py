"""Probes for the orchestrator and the metrics for Prometheus.

/healthz: the process answers (liveness; touches nothing else). /readyz: it can serve, i.e. the
database, the broker and the signing keys answer; 503 names what does not.
/metrics is meant for the internal network only: the reverse proxy must not expose it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from datapass.ops.metrics import render_metrics
from datapass.ops.readiness import run_checks

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = run_checks(current_app)
    failing = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "unavailable" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    response = jsonify(body)
    response.status_code = 503 if failing else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics():
    return render_metrics()
