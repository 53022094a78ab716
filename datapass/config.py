"""Settings read from the environment (DATAPASS_*), with embedded defaults for one machine."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSECURE_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused outside development
ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(Exception):
    """A setting that makes the app unsafe or unable to start; the message names it."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"DATAPASS_{name}", default)


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config from DATAPASS_* variables, then `overrides`, then validate it."""
    var_dir = Path(_env("VAR_DIR", str(PROJECT_ROOT / "var")))
    env = _env("ENV", "production")
    config = {
        "ENV_NAME": env,
        "SECRET_KEY": _env("SECRET_KEY", INSECURE_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": _env(
            "DATABASE_URL", f"sqlite:///{var_dir / 'datapass.sqlite3'}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "VAR_DIR": str(var_dir),
        "UPLOAD_DIR": _env("UPLOAD_DIR", str(var_dir / "uploads")),
        "DEFINITIONS_DIR": _env("DEFINITIONS_DIR", str(PROJECT_ROOT / "workflows" / "definitions")),
        "DSFR_DIR": _env(
            "DSFR_DIR", str(PROJECT_ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist")
        ),
        "MAX_DOCUMENT_SIZE": int(_env("MAX_DOCUMENT_SIZE", str(10 * 1024 * 1024))),
        "MAX_DOCUMENTS": int(_env("MAX_DOCUMENTS", "5")),
        "PAGE_SIZE": 25,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # OAuth 2 credentials (datapass.oauth); the issuer defaults to the request's root URL.
        "OAUTH_ISSUER": _env("OAUTH_ISSUER"),
        "OAUTH_SECRET_HMAC_KEY": _env("OAUTH_SECRET_HMAC_KEY"),  # default: from SECRET_KEY
        "OAUTH_SECRET_GRACE_PERIOD": int(_env("OAUTH_SECRET_GRACE_PERIOD", str(24 * 3600))),
        "OAUTH_TOKEN_RATE_LIMIT": int(_env("OAUTH_TOKEN_RATE_LIMIT", "60")),  # per client, minute
        "OAUTH_KEY_RELOAD_INTERVAL": float(_env("OAUTH_KEY_RELOAD_INTERVAL", "5")),
        "OAUTH_PRODUCER_CACHE_TTL": float(_env("OAUTH_PRODUCER_CACHE_TTL", "5")),
    }
    config.update(overrides or {})
    config.setdefault(
        "OAUTH_KEY_DIR", _env("OAUTH_KEY_DIR") or str(Path(config["VAR_DIR"]) / "keys")
    )
    config.setdefault("DEV_LOGIN", config["ENV_NAME"] in ("development", "testing"))
    # Uploads are checked one by one; this caps the whole body of one form post.
    config.setdefault(
        "MAX_CONTENT_LENGTH", config["MAX_DOCUMENT_SIZE"] * config["MAX_DOCUMENTS"] + 1024 * 1024
    )
    validate(config)
    return config


def validate(config: dict) -> None:
    """Fail fast, naming the setting, on a configuration that is unsafe or incoherent."""
    env = config["ENV_NAME"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"DATAPASS_ENV={env!r}: expected one of {', '.join(ENVIRONMENTS)}")
    if env == "production":
        if config["SECRET_KEY"] == INSECURE_SECRET_KEY or len(config["SECRET_KEY"]) < 32:
            raise ConfigError(
                "DATAPASS_SECRET_KEY: set a random secret of at least 32 characters in production"
            )
        if config["DEV_LOGIN"]:
            raise ConfigError("DEV_LOGIN: the development login cannot be enabled in production")
