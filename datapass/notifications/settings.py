"""Notification settings (DATAPASS_*): broker, mail, retries, webhooks, and their validation.

Kept here and called from datapass.config, so that load_config stays a readable checklist.
"""

from __future__ import annotations

import os
from pathlib import Path

MAIL_BACKENDS = ("smtp", "file")
BROKER_SCHEMES = ("redis://", "rediss://", "filesystem://", "memory://", "sqla+")


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"DATAPASS_{name}", default)


def _number(config: dict, key: str, raw: str, kind=int):
    try:
        return kind(raw)
    except ValueError:
        from datapass.config import ConfigError

        raise ConfigError(f"DATAPASS_{key}={raw!r}: expected a number") from None


def apply_notification_defaults(config: dict) -> None:
    """Fill the notification settings not given as overrides, from the environment."""
    env = config["ENV_NAME"]
    strings = {
        "BASE_URL": _env("BASE_URL", "http://127.0.0.1:5000"),
        # Embedded default: a broker in files under VAR_DIR; production sets a redis:// URL.
        "BROKER_URL": _env("BROKER_URL", "filesystem://"),
        "RESULT_BACKEND": _env("RESULT_BACKEND"),
        "MAIL_BACKEND": _env("MAIL_BACKEND", "smtp" if env == "production" else "file"),
        "MAIL_FROM": _env("MAIL_FROM", "DataPass <ne-pas-repondre@datapass.local>"),
        "SMTP_HOST": _env("SMTP_HOST", "localhost"),
        "SMTP_USERNAME": _env("SMTP_USERNAME"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "NOTIFICATIONS_ENCRYPTION_KEY": _env("NOTIFICATIONS_ENCRYPTION_KEY"),
    }
    numbers = {
        "SMTP_PORT": ("25", int),
        "SMTP_TIMEOUT": ("10", float),
        "NOTIFICATION_MAX_ATTEMPTS": ("8", int),
        "NOTIFICATION_RETRY_BASE": ("30", float),  # seconds before the first retry
        "NOTIFICATION_RETRY_MAX": ("1800", float),  # longest delay between two attempts
        "BROKER_VISIBILITY_TIMEOUT": ("7200", float),  # must exceed NOTIFICATION_RETRY_MAX
        "OUTBOX_RELAY_INTERVAL": ("10", float),
        "OUTBOX_LEASE": ("300", float),  # a claimed or enqueued row is retried after this
        "WEBHOOK_TIMEOUT": ("10", float),
        "WEBHOOK_MAX_FAILURES": ("5", int),
        "UNSUBSCRIBE_MAX_AGE": (str(90 * 24 * 3600), int),
    }
    for key, value in strings.items():
        config.setdefault(key, value)
    for key, (default, kind) in numbers.items():
        if key not in config:
            config[key] = _number(config, key, _env(key, default), kind)
    config.setdefault("SMTP_STARTTLS", _env("SMTP_STARTTLS", "false").lower() in ("1", "true"))
    # Webhooks to private addresses are refused in production (checked at delivery time),
    # unless the operator allows them (receivers on an internal network).
    if "WEBHOOK_ALLOW_PRIVATE" not in config:
        raw = _env("WEBHOOK_ALLOW_PRIVATE", "false" if env == "production" else "true")
        if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
            from datapass.config import ConfigError

            raise ConfigError(f"DATAPASS_WEBHOOK_ALLOW_PRIVATE={raw!r}: expected true or false")
        config["WEBHOOK_ALLOW_PRIVATE"] = raw.lower() in ("1", "true", "yes")
    config.setdefault("OUTBOX_KICK", True)  # enqueue right after commit, not only on the relay
    config.setdefault("MAILBOX_DIR", str(Path(config["VAR_DIR"]) / "mailbox"))
    config.setdefault("BROKER_DIR", str(Path(config["VAR_DIR"]) / "broker"))


def validate_notifications(config: dict) -> None:
    from datapass.config import ConfigError

    if config["MAIL_BACKEND"] not in MAIL_BACKENDS:
        raise ConfigError(
            f"DATAPASS_MAIL_BACKEND={config['MAIL_BACKEND']!r}: expected smtp or file"
        )
    if config["ENV_NAME"] == "production" and config["MAIL_BACKEND"] != "smtp":
        raise ConfigError("DATAPASS_MAIL_BACKEND: production sends mails by smtp")
    if not config["BROKER_URL"].startswith(BROKER_SCHEMES):
        raise ConfigError(
            f"DATAPASS_BROKER_URL={config['BROKER_URL']!r}: expected redis://, rediss:// "
            "or filesystem://"
        )
    if not config["BASE_URL"].startswith(("http://", "https://")):
        raise ConfigError(f"DATAPASS_BASE_URL={config['BASE_URL']!r}: expected an http(s) URL")
    if not 1 <= config["SMTP_PORT"] <= 65535:
        raise ConfigError(f"DATAPASS_SMTP_PORT={config['SMTP_PORT']}: expected 1 to 65535")
    if config["NOTIFICATION_MAX_ATTEMPTS"] < 1:
        raise ConfigError("DATAPASS_NOTIFICATION_MAX_ATTEMPTS: expected at least 1")
    if not 0 < config["NOTIFICATION_RETRY_BASE"] <= config["NOTIFICATION_RETRY_MAX"]:
        raise ConfigError(
            "DATAPASS_NOTIFICATION_RETRY_BASE: expected more than 0 and at most "
            "DATAPASS_NOTIFICATION_RETRY_MAX"
        )
    # A Redis message not acknowledged within the visibility timeout is delivered again: a
    # retry waiting longer than it would be duplicated by the broker.
    if config["BROKER_VISIBILITY_TIMEOUT"] <= config["NOTIFICATION_RETRY_MAX"]:
        raise ConfigError(
            "DATAPASS_BROKER_VISIBILITY_TIMEOUT: must be longer than "
            "DATAPASS_NOTIFICATION_RETRY_MAX (the longest retry delay)"
        )
    if config["OUTBOX_RELAY_INTERVAL"] <= 0 or config["OUTBOX_LEASE"] <= 0:
        raise ConfigError("DATAPASS_OUTBOX_RELAY_INTERVAL, DATAPASS_OUTBOX_LEASE: expected > 0")
