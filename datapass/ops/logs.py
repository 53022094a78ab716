"""Structured logs: one JSON object a line, each carrying the request id.

The request id comes from the `X-Request-ID` header set by the proxy (when well formed) or is
made here; it is echoed in the response, and sent with every task queued during the request so
that the worker's log lines carry it too (datapass.ops.tasks).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, request

request_id_var: ContextVar[str | None] = ContextVar("datapass_request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HANDLER_NAME = "datapass"
# Attributes every LogRecord has: anything else was passed with `extra=` and is logged too.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def new_request_id(candidate: str | None = None) -> str:
    """The proxy's id when well formed (never log untrusted text as is), or a new one."""
    if candidate and _VALID_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


class StderrHandler(logging.StreamHandler):
    """Writes to the current sys.stderr, whatever replaced it since (pytest's capture)."""

    def __init__(self):
        super().__init__()
        self.set_name(HANDLER_NAME)
        self.addFilter(RequestIdFilter())

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(log_format: str, level: str) -> None:
    """Install one handler on the root logger (replacing ours if already there)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    if app.config["LOG_FORMAT"] != "none":
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    access_log = logging.getLogger("datapass.access")

    def start_request() -> None:
        g.request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()
        g.request_id_token = request_id_var.set(g.request_id)

    # First of all, so that a hook that answers early (a redirect to sign in) is logged too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)

    @app.after_request
    def log_request(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        started = g.get("request_started")
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                if started
                else None,
                "remote_addr": request.remote_addr,
            },
        )
        return response

    @app.teardown_request
    def forget_request_id(exc=None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
