"""The readiness checks: each returns "ok" or a short reason (logged, and shown by /readyz)."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from datapass.oauth.keys import SUFFIX

logger = logging.getLogger(__name__)
BROKER_TIMEOUT = 2.0  # seconds: a probe must answer fast


def check_database(app: Flask) -> str:
    from datapass.extensions import db

    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means "not ready"
        db.session.rollback()
        return f"error: {type(error).__name__}"
    finally:
        db.session.remove()
    return "ok"


def check_broker(app: Flask) -> str:
    url = app.config["BROKER_URL"]
    if url.startswith(("redis://", "rediss://")):
        import redis

        try:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT
            )
            try:
                client.ping()
            finally:
                client.close()
        except redis.RedisError as error:
            return f"error: {type(error).__name__}"
        return "ok"
    if url.startswith("filesystem://"):
        folder = Path(app.config["BROKER_DIR"])
        return "ok" if folder.is_dir() else f"error: no broker folder {folder}"
    return "ok"  # memory:// (tests): nothing to reach


def check_signing_keys(app: Flask) -> str:
    folder = Path(app.config["OAUTH_KEY_DIR"])
    try:
        keys = list(folder.glob(f"*{SUFFIX}"))
        if not keys:
            return "error: no signing key (datapass rotate-signing-key)"
        for key in keys:
            with key.open("rb"):
                pass
    except OSError as error:
        return f"error: {type(error).__name__}"
    return "ok"


CHECKS = {"database": check_database, "broker": check_broker, "signing_keys": check_signing_keys}


def run_checks(app: Flask) -> dict[str, str]:
    results = {name: check(app) for name, check in CHECKS.items()}
    for name, result in results.items():
        if result != "ok":
            logger.warning("not ready: %s %s", name, result, extra={"component": name})
    return results
