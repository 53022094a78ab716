"""The periodic lifecycle task (run by beat): expiry, expiry reminders, stale drafts."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from datapass.lifecycle.expiry import tick
from datapass.models_base import utcnow


@shared_task(name="worker.lifecycle_tasks.lifecycle_tick")
def lifecycle_tick() -> dict[str, int]:
    """Expire, remind and archive what is due now; idempotent, so a missed run catches up."""
    return asdict(tick(utcnow()))
