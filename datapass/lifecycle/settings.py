"""Lifecycle settings (DATAPASS_*): reminder and archive delays, the periodic tick.

Kept here and called from datapass.config, as the notification settings are.
"""

from __future__ import annotations

import os

# key: (default, smallest value allowed)
DELAYS = {
    # Applicants are warned this many days before their authorization expires.
    "AUTHORIZATION_EXPIRY_REMINDER_DAYS": ("30", 1),
    # A draft untouched for this many days gets a reminder...
    "DRAFT_REMINDER_DAYS": ("30", 1),
    # ...and is archived this many days after the reminder if still untouched.
    "DRAFT_ARCHIVE_DAYS": ("15", 1),
    # Seconds between two runs of the periodic tick (Celery beat).
    "LIFECYCLE_TICK_INTERVAL": ("3600", 60),
}


def apply_lifecycle_defaults(config: dict) -> None:
    """Fill the lifecycle settings not given as overrides, from the environment."""
    from datapass.config import ConfigError

    for key, (default, _) in DELAYS.items():
        if key in config:
            continue
        raw = os.environ.get(f"DATAPASS_{key}", default)
        try:
            config[key] = int(raw)
        except ValueError:
            raise ConfigError(f"DATAPASS_{key}={raw!r}: expected a whole number") from None


def validate_lifecycle(config: dict) -> None:
    from datapass.config import ConfigError

    for key, (_, smallest) in DELAYS.items():
        value = config[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < smallest:
            raise ConfigError(f"DATAPASS_{key}={value!r}: expected a whole number >= {smallest}")
