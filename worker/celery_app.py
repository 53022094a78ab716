"""Worker entry point: `celery -A worker.celery_app worker -B` (settings from DATAPASS_*)."""

from celery.schedules import crontab

from datapass import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.set_default()

# The lifecycle's periodic work: expiry of authorizations, reminders, stale drafts.
celery_app.conf.imports = (*celery_app.conf.imports, "worker.lifecycle_tasks")
celery_app.conf.beat_schedule["lifecycle-tick"] = {
    "task": "worker.lifecycle_tasks.lifecycle_tick",
    "schedule": flask_app.config["LIFECYCLE_TICK_INTERVAL"],
}

# The open-data CSV of authorizations in force, rewritten daily (datapass.stats.tasks).
celery_app.conf.beat_schedule["export-open-data"] = {
    "task": "datapass.stats.export_open_data",
    "schedule": crontab(hour=3, minute=15),
}
