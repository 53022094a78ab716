"""Tasks receive outbox ids, never ORM objects; they run inside the Flask app context."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from datapass.notifications import delivery


@shared_task(bind=True, name="worker.tasks.deliver_outbox", max_retries=None)
def deliver_outbox(self, outbox_id: int) -> str:
    """Deliver one outbox row; on failure retry after the backoff the row recorded."""
    outcome = delivery.deliver(outbox_id)
    if outcome.status == "retry":
        # The retry is a new message published before this one is acknowledged (acks_late):
        # a lost retry is caught by the relay, which re-enqueues due rows.
        raise self.retry(countdown=outcome.delay)
    return outcome.status


@shared_task(name="worker.tasks.relay_outbox")
def relay_outbox() -> int:
    """Enqueue committed rows that are due and not in the queue (run by beat)."""
    ids = delivery.due_ids()
    celery_app = current_app.extensions["celery"]
    sent = []
    try:
        for outbox_id in ids:
            celery_app.send_task("worker.tasks.deliver_outbox", args=[outbox_id])
            sent.append(outbox_id)
    finally:
        delivery.mark_enqueued(sent)
    return len(sent)
