"""Fixtures for the notification tests with real parts (one set for the package, for speed).

`stack` gives a migrated database, a real Redis, an SMTP sink (aiosmtpd), a webhook receiver,
a Celery worker process with beat, and the Flask app of the test process on the same database
and broker. Tests share the database: each works on its own users and requests.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import _config
from tests.factories import Factory
from tests.notifications.servers import RedisServer, SmtpSink, WebhookReceiver, Worker

SETTINGS = {
    "MAIL_BACKEND": "smtp",
    "NOTIFICATION_RETRY_BASE": 0.3,
    "NOTIFICATION_RETRY_MAX": 1.0,
    "NOTIFICATION_MAX_ATTEMPTS": 3,
    "BROKER_VISIBILITY_TIMEOUT": 30,
    "OUTBOX_RELAY_INTERVAL": 0.5,
    "OUTBOX_LEASE": 3,
    "WEBHOOK_TIMEOUT": 3,
    "BASE_URL": "http://datapass.test",
}


@dataclass
class Stack:
    app: Flask
    factory: Factory
    redis: RedisServer
    smtp: SmtpSink
    receiver: WebhookReceiver
    worker: Worker


def _env(config: dict) -> dict[str, str]:
    """The same settings, as the worker process reads them (DATAPASS_* variables)."""
    names = {
        "ENV_NAME": "ENV",
        "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
        "SECRET_KEY": "SECRET_KEY",
        "VAR_DIR": "VAR_DIR",
        "UPLOAD_DIR": "UPLOAD_DIR",
        "BROKER_URL": "BROKER_URL",
        "SMTP_PORT": "SMTP_PORT",
        "SMTP_HOST": "SMTP_HOST",
        **{key: key for key in SETTINGS},
    }
    env = {f"DATAPASS_{env}": str(config[key]) for key, env in names.items()}
    env["DATAPASS_LOG_FORMAT"] = "text"  # testing logs nothing by default; the worker log is read
    return env


@pytest.fixture(scope="package")
def stack(template_db, tmp_path_factory):
    if not isinstance(template_db, Path):
        pytest.skip("the worker tests run on the SQLite template")
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: scripts/test.sh installs it")
    var_dir = tmp_path_factory.mktemp("notifications") / "var"
    var_dir.mkdir()
    shutil.copy(template_db, var_dir / "datapass.sqlite3")
    with contextlib.ExitStack() as cleanup:  # whatever started is stopped, even on failure
        redis = RedisServer(var_dir)
        cleanup.callback(redis.stop)
        redis.start()
        smtp = SmtpSink()
        smtp.controller.start()
        cleanup.callback(smtp.controller.stop)
        receiver = WebhookReceiver()
        receiver.start()
        cleanup.callback(receiver.stop)
        from datapass import create_app

        app = create_app(
            _config(
                var_dir,
                BROKER_URL=redis.url,
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=smtp.port,
                **SETTINGS,
            )
        )
        cleanup.callback(_dispose, app)
        worker = Worker(_env(app.config), var_dir / "worker.log")
        cleanup.callback(worker.stop)  # runs first: the worker stops while Redis is still up
        worker.start()
        yield Stack(app, Factory(app), redis, smtp, receiver, worker)


def _dispose(app: Flask) -> None:
    with app.app_context():
        from datapass.extensions import db

        db.engine.dispose()
