"""Wire notifications into the app: Celery, the after-commit kick, the pages."""

from __future__ import annotations

from flask import Flask

from datapass.extensions import csrf
from datapass.notifications.celery import celery_init_app
from datapass.notifications.outbox import init_session_events


def init_app(app: Flask) -> None:
    celery_init_app(app)
    init_session_events()
    from datapass.notifications.views import bp, unsubscribe
    from datapass.notifications.webhook_views import bp as webhooks_bp

    csrf.exempt(unsubscribe)  # RFC 8058 one-click POSTs carry the signed token, not a CSRF one
    app.register_blueprint(bp)
    app.register_blueprint(webhooks_bp)
    from datapass.notifications.delivery import producer_reference

    # For the request pages: `producer_reference(request.id)`, the producer's token_id.
    app.jinja_env.globals["producer_reference"] = producer_reference
