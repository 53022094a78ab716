"""Worker entry point: `celery -A worker.celery_app worker -B` (settings from DATAPASS_*).

What beat runs is datapass.notifications.celery.beat_schedule.
"""

from datapass import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.set_default()
