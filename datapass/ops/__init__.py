"""Operations: health and readiness probes, Prometheus metrics, JSON logs with a request id
carried into the worker's tasks, optional Sentry."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from datapass.extensions import csrf
    from datapass.ops import logs, metrics, sentry, tasks, views

    logs.init_app(app)
    metrics.init_app(app)
    tasks.connect_signals()
    sentry.init_sentry(app.config)
    csrf.exempt(views.bp)
    app.register_blueprint(views.bp)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a TLS-terminating proxy: the scheme, host and client address it saw.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
