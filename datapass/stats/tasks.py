"""The daily open-data export for Celery beat: the function behind `datapass export-open-data`."""

from __future__ import annotations

from celery import shared_task

from datapass.stats.open_data import export_open_data


@shared_task(name="datapass.stats.export_open_data")
def export_open_data_task() -> int:
    """Rewrite the CSV of authorizations in force; returns its number of rows."""
    return export_open_data()[1]
