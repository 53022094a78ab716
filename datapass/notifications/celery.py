"""Celery bound to the Flask app, the documented way: a FlaskTask, config from app.config."""

from __future__ import annotations

from pathlib import Path

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask


def celery_config(config: dict) -> dict:
    """Celery settings for at-least-once delivery: a task is acknowledged only once it ran."""
    broker = config["BROKER_URL"]
    timeout = config["BROKER_VISIBILITY_TIMEOUT"]
    # Reconnect within seconds after a broker outage (kombu's default backs off up to 30 s).
    transport = {
        "visibility_timeout": timeout,
        "interval_start": 0.5,
        "interval_step": 0.5,
        "interval_max": 3,
    }
    if broker.startswith("redis"):
        # Fail fast when Redis is down: the outbox keeps the row and the relay sends it later.
        transport.update(socket_connect_timeout=3, socket_timeout=10)
    if broker.startswith("filesystem://"):
        folder = Path(config["BROKER_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        transport.update(
            data_folder_in=str(folder),
            data_folder_out=str(folder),
            # kombu's default is ./control, relative to wherever the process was started.
            control_folder=str(folder / "control"),
        )
    result_backend = config["RESULT_BACKEND"] or (broker if broker.startswith("redis") else None)
    return {
        "broker_url": broker,
        "result_backend": result_backend,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # The same visibility timeout for the broker, the result backend and beat's lock.
        "broker_transport_options": transport,
        "result_backend_transport_options": {"visibility_timeout": timeout},
        "visibility_timeout": timeout,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": "datapass",
        "beat_schedule": beat_schedule(config),
        "beat_schedule_filename": str(Path(config["VAR_DIR"]) / "celerybeat-schedule"),
        "imports": ("worker.tasks", "worker.lifecycle_tasks"),
    }


def beat_schedule(config: dict) -> dict:
    """Everything beat runs, in one place."""
    return {
        # Outbox rows whose queueing failed (broker down) or whose lease ran out.
        "relay-outbox": {
            "task": "worker.tasks.relay_outbox",
            "schedule": config["OUTBOX_RELAY_INTERVAL"],
        },
        # Expiry of authorizations, reminders, stale drafts (datapass.lifecycle.expiry).
        "lifecycle-tick": {
            "task": "worker.lifecycle_tasks.lifecycle_tick",
            "schedule": config["LIFECYCLE_TICK_INTERVAL"],
        },
        # The open-data CSV of authorizations in force (datapass.stats.tasks).
        "export-open-data": {
            "task": "datapass.stats.export_open_data",
            "schedule": crontab(hour=3, minute=15),
        },
        # Organisation details (name, address, closed or not) from the company register.
        "refresh-organizations": {
            "task": "datapass.accounts.refresh_organizations",
            "schedule": crontab(hour=2, minute=30),
        },
    }


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(app.config))
    app.extensions["celery"] = celery_app
    return celery_app
