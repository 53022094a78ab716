"""Settings read from the environment (DATAPASS_*), with embedded defaults for one machine."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from datapass.lifecycle.settings import apply_lifecycle_defaults, validate_lifecycle
from datapass.notifications.settings import apply_notification_defaults, validate_notifications
from datapass.ops.settings import apply_ops_defaults, validate_ops
from datapass.security.settings import apply_security_defaults, validate_security

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSECURE_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused outside development
ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(Exception):
    """A setting that makes the app unsafe or unable to start; the message names it."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"DATAPASS_{name}", default)


def _number(name: str, default: float, kind: type = int) -> int | float:
    """DATAPASS_<name> as a non-negative number, or a ConfigError naming the variable."""
    raw = _env(name)
    if raw is None:
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise ConfigError(f"DATAPASS_{name}={raw!r}: expected {expected}") from None
    if value < 0:
        raise ConfigError(f"DATAPASS_{name}={raw!r}: expected a value >= 0")
    return value


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
        "VAR_DIR": str(var_dir),
        "UPLOAD_DIR": _env("UPLOAD_DIR", str(var_dir / "uploads")),
        "DEFINITIONS_DIR": _env("DEFINITIONS_DIR", str(PROJECT_ROOT / "workflows" / "definitions")),
        "DSFR_DIR": _env(
            "DSFR_DIR", str(PROJECT_ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist")
        ),
        "MAX_DOCUMENT_SIZE": _number("MAX_DOCUMENT_SIZE", 10 * 1024 * 1024),
        "MAX_DOCUMENTS": _number("MAX_DOCUMENTS", 5),
        "PAGE_SIZE": 25,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env(
            "SESSION_COOKIE_SECURE", "true" if env == "production" else "false"
        ).lower()
        in ("1", "true", "yes"),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # OAuth 2 credentials (datapass.oauth); the issuer defaults to the request's root URL.
        "OAUTH_ISSUER": _env("OAUTH_ISSUER"),
        "OAUTH_SECRET_HMAC_KEY": _env("OAUTH_SECRET_HMAC_KEY"),  # default: from SECRET_KEY
        "OAUTH_SECRET_GRACE_PERIOD": _number("OAUTH_SECRET_GRACE_PERIOD", 24 * 3600),
        "OAUTH_TOKEN_RATE_LIMIT": _number("OAUTH_TOKEN_RATE_LIMIT", 60),  # per client, minute
        "OAUTH_KEY_RELOAD_INTERVAL": _number("OAUTH_KEY_RELOAD_INTERVAL", 5, float),
        "OAUTH_PRODUCER_CACHE_TTL": _number("OAUTH_PRODUCER_CACHE_TTL", 5, float),
        # Sign-in with OpenID Connect (ProConnect in production); see datapass.accounts.oidc.
        "OIDC_ISSUER": _env("OIDC_ISSUER"),
        "OIDC_CLIENT_ID": _env("OIDC_CLIENT_ID"),
        "OIDC_CLIENT_SECRET": _env("OIDC_CLIENT_SECRET"),
        "OIDC_SCOPES": _env("OIDC_SCOPES", "openid email given_name usual_name siret uid"),
        "OIDC_ACR_VALUES": _env("OIDC_ACR_VALUES"),  # e.g. "eidas1"
        # A session ends after this many seconds without activity (each request renews it).
        "SESSION_LIFETIME": _number("SESSION_LIFETIME", 12 * 3600),
        # Organisation details: "api" (Recherche d'entreprises) or "sandbox" (recorded answers).
        "DIRECTORY_API_URL": _env("DIRECTORY_API_URL", "https://recherche-entreprises.api.gouv.fr"),
        "DIRECTORY_REFRESH_INTERVAL": _number("DIRECTORY_REFRESH_INTERVAL", 24 * 3600),
    }
    config.update(overrides or {})
    apply_notification_defaults(config)  # broker, mail, retries, webhooks
    apply_lifecycle_defaults(config)  # expiry reminders, stale drafts, periodic tick
    apply_ops_defaults(config)  # logs, Sentry, proxies, URL scheme
    apply_security_defaults(config)  # rate limits and their store, upload scan, HSTS
    # A server database may drop idle connections: check them out with a ping. A SQLite file
    # cannot, and the ping would double the queries of the hot paths (introspection).
    config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        {"pool_pre_ping": not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")},
    )
    config.setdefault(
        "OAUTH_KEY_DIR", _env("OAUTH_KEY_DIR") or str(Path(config["VAR_DIR"]) / "keys")
    )
    config.setdefault("DEV_LOGIN", config["ENV_NAME"] in ("development", "testing"))
    config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(seconds=config["SESSION_LIFETIME"]))
    config.setdefault(
        "DIRECTORY_BACKEND",
        _env("DIRECTORY_BACKEND") or ("api" if config["ENV_NAME"] == "production" else "sandbox"),
    )
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
    _validate_sign_in(config)
    validate_notifications(config)
    validate_lifecycle(config)
    if env == "production":
        if config["SECRET_KEY"] == INSECURE_SECRET_KEY or len(config["SECRET_KEY"]) < 32:
            raise ConfigError(
                "DATAPASS_SECRET_KEY: set a random secret of at least 32 characters in production"
            )
        if config["DEV_LOGIN"]:
            raise ConfigError("DEV_LOGIN: the development login cannot be enabled in production")
    validate_ops(config)  # logs, Sentry; production: https only (insecure transport refused)
    validate_security(config)


MAX_SESSION_LIFETIME = 12 * 3600
DIRECTORY_BACKENDS = ("api", "sandbox")


def _validate_sign_in(config: dict) -> None:
    lifetime = config["SESSION_LIFETIME"]
    if not 60 <= lifetime <= MAX_SESSION_LIFETIME:
        raise ConfigError(
            f"DATAPASS_SESSION_LIFETIME={lifetime}: expected 60 to {MAX_SESSION_LIFETIME} seconds"
        )
    oidc = {name: config[f"OIDC_{name}"] for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET")}
    if any(oidc.values()) and not all(oidc.values()):
        missing = ", ".join(f"DATAPASS_OIDC_{name}" for name, value in oidc.items() if not value)
        raise ConfigError(f"{missing}: OpenID Connect needs an issuer, a client id and a secret")
    issuer = oidc["ISSUER"] or ""
    if issuer and not issuer.startswith(("https://", "http://")):
        raise ConfigError(f"DATAPASS_OIDC_ISSUER={issuer!r}: expected an http(s) URL")
    if issuer.startswith("http://") and config["ENV_NAME"] == "production":
        raise ConfigError("DATAPASS_OIDC_ISSUER: the provider must use https in production")
    if "openid" not in config["OIDC_SCOPES"].split():
        raise ConfigError("DATAPASS_OIDC_SCOPES: the scopes must include openid")
    if config["DIRECTORY_BACKEND"] not in DIRECTORY_BACKENDS:
        raise ConfigError(
            f"DATAPASS_DIRECTORY_BACKEND={config['DIRECTORY_BACKEND']!r}: expected api or sandbox"
        )
