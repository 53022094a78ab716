"""The Celery worker: relays the outbox and delivers emails and webhooks."""
