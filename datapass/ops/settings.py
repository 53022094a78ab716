"""Operations settings (DATAPASS_*): logs, Sentry, proxies, transport; and their validation.

Kept here and called from datapass.config, so that load_config stays a readable checklist.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOG_FORMATS = ("json", "text", "none")


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"DATAPASS_{name}", default)


def _error(message: str) -> Exception:
    from datapass.config import ConfigError

    return ConfigError(message)


def apply_ops_defaults(config: dict) -> None:
    """Fill the operations settings not given as overrides, from the environment."""
    env = config["ENV_NAME"]
    # Production logs are JSON for the log collector; pytest captures the testing logs itself.
    default_format = {"production": "json", "development": "text"}.get(env, "none")
    config.setdefault("LOG_FORMAT", _env("LOG_FORMAT", default_format))
    config.setdefault("LOG_LEVEL", (_env("LOG_LEVEL", "INFO") or "INFO").upper())
    config.setdefault("SENTRY_DSN", _env("SENTRY_DSN") or os.environ.get("SENTRY_DSN") or None)
    if "TRUSTED_PROXIES" not in config:
        raw = _env("TRUSTED_PROXIES", "0")
        try:
            config["TRUSTED_PROXIES"] = int(raw)
        except ValueError:
            raise _error(f"DATAPASS_TRUSTED_PROXIES={raw!r}: expected a number") from None
    config.setdefault(
        "PREFERRED_URL_SCHEME",
        _env("PREFERRED_URL_SCHEME", "https" if env == "production" else "http"),
    )


def validate_ops(config: dict) -> None:
    if config["LOG_FORMAT"] not in LOG_FORMATS:
        raise _error(
            f"DATAPASS_LOG_FORMAT={config['LOG_FORMAT']!r}: expected {', '.join(LOG_FORMATS)}"
        )
    if not isinstance(logging.getLevelName(config["LOG_LEVEL"]), int):
        raise _error(
            f"DATAPASS_LOG_LEVEL={config['LOG_LEVEL']!r}: expected DEBUG, INFO, WARNING or ERROR"
        )
    if config["TRUSTED_PROXIES"] < 0:
        raise _error("DATAPASS_TRUSTED_PROXIES: expected 0 (none) or more")
    if config["SENTRY_DSN"] and not config["SENTRY_DSN"].startswith(("https://", "http://")):
        raise _error("DATAPASS_SENTRY_DSN: expected the DSN URL given by Sentry")
    if config["ENV_NAME"] == "production":
        _validate_production_transport(config)


def _validate_production_transport(config: dict) -> None:
    """Production is served over TLS only (ending at the reverse proxy at the latest)."""
    if config["PREFERRED_URL_SCHEME"] != "https":
        raise _error(
            "DATAPASS_PREFERRED_URL_SCHEME: insecure transport, production serves https only"
        )
    if not config["SESSION_COOKIE_SECURE"]:
        raise _error(
            "DATAPASS_SESSION_COOKIE_SECURE: insecure transport, production session cookies "
            "must be Secure (sent over https only)"
        )
    issuer = config.get("OAUTH_ISSUER") or ""
    if issuer.startswith("http://"):
        raise _error("DATAPASS_OAUTH_ISSUER: insecure transport, the issuer must be an https URL")
    if os.environ.get("AUTHLIB_INSECURE_TRANSPORT"):
        raise _error(
            "AUTHLIB_INSECURE_TRANSPORT: insecure transport, unset it (OAuth over plain http)"
        )


def check_signing_key(config: dict) -> None:
    """A serving process in production needs the signing key made beforehand (see wsgi.py)."""
    if config["ENV_NAME"] != "production":
        return
    folder = Path(config["OAUTH_KEY_DIR"])
    from datapass.oauth.keys import SUFFIX

    if not folder.is_dir() or not any(folder.glob(f"*{SUFFIX}")):
        raise _error(
            f"DATAPASS_OAUTH_KEY_DIR: no signing key in {folder}; create one with "
            "`datapass rotate-signing-key` (once, before starting the web processes)"
        )
