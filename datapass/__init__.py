"""datapass: authorisations to call restricted-access public APIs."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, jsonify, render_template, request, send_from_directory

from datapass import catalog
from datapass.config import PROJECT_ROOT, load_config
from datapass.errors import DomainError
from datapass.extensions import csrf, db, login_manager


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: settings, extensions, definitions, blueprints, CLI."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "datapass" / "static"),
    )
    app.config.update(load_config(overrides))
    app.config["WTF_I18N_ENABLED"] = False  # WTForms' own French messages (Meta.locales)
    Path(app.config["VAR_DIR"]).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    catalog.init_app(app)

    from datapass import ops

    ops.init_app(app)  # /healthz, /readyz, /metrics, JSON logs with request ids, Sentry

    from datapass.accounts.views import bp as accounts_bp
    from datapass.authorizations.views import bp as authorizations_bp
    from datapass.catalog.views import bp as catalog_bp
    from datapass.instruction.views import bp as instruction_bp
    from datapass.requests.views import bp as requests_bp

    for blueprint in (catalog_bp, accounts_bp, requests_bp, instruction_bp, authorizations_bp):
        app.register_blueprint(blueprint)

    from datapass import accounts

    accounts.init_app(app)  # OpenID Connect client, rights management pages, impersonation

    from datapass import oauth
    from datapass.producers.views import bp as producers_bp

    oauth.init_app(app)  # authorization server, signing keys, CSRF-exempt OAuth endpoints
    app.register_blueprint(producers_bp)

    from datapass import api
    from datapass.developers.views import bp as developers_bp

    api.init_app(app)  # /api/v1 (bearer tokens of API clients) and its OpenAPI document
    app.register_blueprint(developers_bp)

    from datapass.notifications.app import init_app as init_notifications

    init_notifications(app)  # Celery, outbox kick after commit, mailbox/unsubscribe/webhooks

    from datapass.instruction.tools_views import bp as instruction_tools_bp
    from datapass.lifecycle.cli import lifecycle_group
    from datapass.lifecycle.views import bp as lifecycle_bp

    # Reopen, copy, stages, transfer, revoke; message templates and instructors' notes.
    app.register_blueprint(lifecycle_bp)
    app.register_blueprint(instruction_tools_bp)
    app.cli.add_command(lifecycle_group)  # datapass lifecycle tick

    from datapass import stats

    stats.init_app(app)  # /stats (public, cached, rate limited), the open-data export

    from datapass import cli, templating

    templating.init_app(app)
    cli.init_app(app)
    _register_error_pages(app)

    from datapass import security

    security.init_app(app)  # CSP and security headers; rate limits (shared store)

    @app.get("/dsfr/<path:filename>")
    def dsfr(filename: str):
        """The State design system, served from its npm package."""
        return send_from_directory(app.config["DSFR_DIR"], filename, max_age=86400)

    return app


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render_template("error.html", status=error.status, message=error.message), (
            error.status
        )

    messages = {
        400: "La requête est invalide.",
        403: "Vous n'avez pas accès à cette page.",
        404: "Page introuvable : elle n'existe pas, ou vous n'y avez pas accès.",
        405: "Méthode non autorisée.",
        413: "Le fichier envoyé est trop volumineux.",
        500: "Une erreur inattendue s'est produite. Rien n'a été enregistré ; réessayez.",
    }
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def database_unavailable(error):
        """The database is down or locked: a clear 503, the transaction rolled back."""
        app.logger.error("database unavailable: %s", error.__class__.__name__)
        db.session.rollback()
        g._login_user = login_manager.anonymous_user()  # render without querying the user
        message = (
            "Le service est momentanément indisponible. Rien n'a été enregistré ; "
            "réessayez dans quelques instants."
        )
        if request.blueprint == "api":
            from datapass.api.problems import ApiProblem, problem_response

            problem = ApiProblem(503, "unavailable", message, headers={"Retry-After": "30"})
            return problem_response(problem)
        if request.blueprint == "oauth":  # machine to machine: an RFC 6749-style JSON error
            response = jsonify(
                error="temporarily_unavailable",
                error_description="The service is temporarily unavailable; retry shortly.",
            )
            response.status_code = 503
            response.headers.update({"Retry-After": "30", "Cache-Control": "no-store"})
            return response
        response = app.make_response(
            (render_template("error.html", status=503, message=message), 503)
        )
        response.headers["Retry-After"] = "30"
        return response

    for status, message in messages.items():
        app.register_error_handler(
            status,
            lambda error, s=status, m=message: (
                render_template("error.html", status=s, message=m),
                s,
            ),
        )
