"""Celery signals: the request id travels with each task queued during a request, and the
worker's log lines carry it; tasks are counted by state for /metrics."""

from __future__ import annotations

import logging

from celery import signals

from datapass.ops.logs import new_request_id, request_id_var
from datapass.ops.metrics import TASKS

HEADER = "datapass_request_id"
_tokens: dict[str, object] = {}


def _task_name(sender) -> str:
    return getattr(sender, "name", None) or str(sender)


def add_request_id(headers=None, sender=None, **_) -> None:
    """Before publishing: carry the request id (or the running task's) in the message."""
    if headers is not None:
        request_id = request_id_var.get()
        if request_id:
            headers.setdefault(HEADER, request_id)
    TASKS.labels(str(sender), "sent").inc()


def bind_request_id(task_id=None, task=None, **_) -> None:
    """In the worker, before the task runs: its log lines carry the request id that queued it
    (or a new one for a periodic task)."""
    request_id = new_request_id(getattr(task.request, HEADER, None) if task else None)
    _tokens[task_id] = request_id_var.set(request_id)
    TASKS.labels(_task_name(task), "started").inc()


def unbind_request_id(task_id=None, **_) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a thread pool): just clear it
            request_id_var.set(None)


def count_success(sender=None, **_) -> None:
    TASKS.labels(_task_name(sender), "succeeded").inc()


def count_failure(sender=None, **_) -> None:
    TASKS.labels(_task_name(sender), "failed").inc()


def count_retry(sender=None, **_) -> None:
    TASKS.labels(_task_name(sender), "retried").inc()


def keep_our_logging(loglevel=None, **_) -> None:
    """The worker logs through datapass.ops.logs (JSON in production), not Celery's own setup:
    a receiver of setup_logging tells Celery to leave logging alone."""
    if loglevel:
        logging.getLogger().setLevel(loglevel)


def connect_signals() -> None:
    """Idempotent (dispatch_uid): every app built in a process connects the same receivers."""
    for signal, receiver in (
        (signals.setup_logging, keep_our_logging),
        (signals.before_task_publish, add_request_id),
        (signals.task_prerun, bind_request_id),
        (signals.task_postrun, unbind_request_id),
        (signals.task_success, count_success),
        (signals.task_failure, count_failure),
        (signals.task_retry, count_retry),
    ):
        signal.connect(receiver, weak=False, dispatch_uid=f"datapass.ops.{receiver.__name__}")
