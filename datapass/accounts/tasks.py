"""The daily refresh of organisations from the company register, for Celery beat."""

from __future__ import annotations

import logging

from celery import shared_task

from datapass.accounts.directory import refresh_all

log = logging.getLogger(__name__)


@shared_task(name="datapass.accounts.refresh_organizations")
def refresh_organizations_task() -> dict[str, int]:
    """What `datapass refresh-organizations` does; organisations refreshed within the interval
    are skipped, so a second run the same day asks the register nothing."""
    refreshed, failures = refresh_all()
    for siret, reason in failures:
        log.warning("organisation %s not refreshed: %s", siret, reason)
    return {"refreshed": refreshed, "failed": len(failures)}
