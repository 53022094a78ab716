"""Security settings (DATAPASS_*): rate limits, their store, the upload scan hook, HSTS."""

from __future__ import annotations

import os


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"DATAPASS_{name}", default)


# name -> default: calls a minute per client address (0: off), and HSTS's max-age
NUMBERS = {
    "SIGNIN_RATE_LIMIT": 30,
    "OAUTH_INTROSPECT_RATE_LIMIT": 60_000,  # producers introspect on their hot path (1000/s)
    "PUBLIC_RATE_LIMIT": 300,
    "HSTS_MAX_AGE": 365 * 24 * 3600,  # seconds; production only
}


def apply_security_defaults(config: dict) -> None:
    from datapass.config import ConfigError

    for name, default in NUMBERS.items():
        if name in config:
            continue
        raw = _env(name, str(default))
        if not raw.isdigit():
            raise ConfigError(f"DATAPASS_{name}={raw!r}: expected an integer >= 0")
        config[name] = int(raw)
    config.setdefault("RATELIMIT_STORAGE_URL", _env("RATELIMIT_STORAGE_URL"))
    config.setdefault("DOCUMENT_SCANNER", _env("DOCUMENT_SCANNER"))


def validate_security(config: dict) -> None:
    from datapass.config import ConfigError
    from datapass.security.scan import resolve_scanner

    url = config["RATELIMIT_STORAGE_URL"]
    if url and not url.startswith(("redis://", "rediss://", "memory://")):
        raise ConfigError(
            f"DATAPASS_RATELIMIT_STORAGE_URL={url!r}: expected redis://, rediss:// or memory://"
        )
    try:
        resolve_scanner(config["DOCUMENT_SCANNER"])
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"DATAPASS_DOCUMENT_SCANNER: {exc}") from None
