"""The OAuth server's clock, one function so that tests can move time (secret grace, expiry)."""

from __future__ import annotations

from datetime import datetime

from datapass.models_base import utcnow


def now() -> datetime:
    return utcnow()
