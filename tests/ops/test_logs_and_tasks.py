"""JSON log lines carry the request id, from the web request into the worker's task."""

from __future__ import annotations

import json
import logging

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from datapass.ops.logs import request_id_var
from datapass.ops.tasks import HEADER


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def json_app(make_app, restore_logging):
    return make_app(LOG_FORMAT="json", LOG_LEVEL="INFO")


def test_each_request_logs_one_json_line_with_its_request_id(json_app, capsys):
    client = json_app.test_client()
    response = client.get("/healthz", headers={"X-Request-ID": "proxy-id-42"})
    assert response.headers["X-Request-ID"] == "proxy-id-42"
    access = [e for e in json_lines(capsys.readouterr().err) if e["logger"] == "datapass.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "proxy-id-42"
    assert access[0]["path"] == "/healthz"
    assert access[0]["status"] == 200
    assert access[0]["level"] == "INFO"
    assert access[0]["duration_ms"] >= 0


def test_a_malformed_request_id_is_replaced(json_app, capsys):
    client = json_app.test_client()
    first = client.get("/healthz", headers={"X-Request-ID": 'evil" injected\\u0000 ' + "x" * 100})
    second = client.get("/healthz")
    made = first.headers["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()
    assert second.headers["X-Request-ID"] not in ("", made)
    ids = [e["request_id"] for e in json_lines(capsys.readouterr().err)]
    assert ids == [made, second.headers["X-Request-ID"]]


def test_the_worker_logs_under_the_request_id_that_queued_the_task(json_app, capsys):
    """Through a real broker and worker (Celery's in-process test worker, memory transport)."""
    celery = Celery("ops-test", broker="memory://", backend="cache+memory://")
    celery.conf.update(task_always_eager=False, worker_hijack_root_logger=False)

    @celery.task(name="tests.ops.log_in_task")
    def log_in_task() -> str:
        logging.getLogger("worker.tasks").info("task ran")
        return request_id_var.get()

    @json_app.post("/ops-test/queue")
    def queue():
        return {"task_id": log_in_task.delay().id}

    with start_worker(celery, pool="solo", perform_ping_check=False, loglevel="INFO"):
        client = json_app.test_client()
        response = client.post("/ops-test/queue", headers={"X-Request-ID": "req-from-web"})
        assert response.status_code == 200
        seen = celery.AsyncResult(response.json["task_id"]).get(timeout=10)
    assert seen == "req-from-web"
    task_lines = [e for e in json_lines(capsys.readouterr().err) if e["message"] == "task ran"]
    assert [e["request_id"] for e in task_lines] == ["req-from-web"]


def test_a_task_queued_outside_a_request_gets_its_own_id(app):
    celery = Celery("ops-test-2", broker="memory://", backend="cache+memory://")

    @celery.task(name="tests.ops.read_request_id")
    def read_request_id() -> str:
        return request_id_var.get()

    with start_worker(celery, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        first = read_request_id.delay().get(timeout=10)
        second = read_request_id.apply_async(headers={HEADER: "given-id"}).get(timeout=10)
    assert first and len(first) == 32
    assert second == "given-id"
