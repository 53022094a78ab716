"""Optional error reporting to Sentry (or a compatible service), on when SENTRY_DSN is set."""

from __future__ import annotations


def init_sentry(config: dict) -> bool:
    dsn = config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.flask import FlaskIntegration

    from datapass.ops.logs import request_id_var

    def tag_request_id(event, hint):
        request_id = request_id_var.get()
        if request_id:
            event.setdefault("tags", {})["request_id"] = request_id
        return event

    # Sentry's defaults send no personal data (no user e-mails, cookies or bodies): kept so.
    sentry_sdk.init(
        dsn=dsn,
        environment=config["ENV_NAME"],
        integrations=[FlaskIntegration(), CeleryIntegration()],
        traces_sample_rate=0.0,
        before_send=tag_request_id,
    )
    return True
