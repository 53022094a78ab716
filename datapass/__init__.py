"""datapass: authorisations to call restricted-access public APIs."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template, send_from_directory

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

    from datapass.accounts.views import bp as accounts_bp
    from datapass.authorizations.views import bp as authorizations_bp
    from datapass.catalog.views import bp as catalog_bp
    from datapass.instruction.views import bp as instruction_bp
    from datapass.requests.views import bp as requests_bp

    for blueprint in (catalog_bp, accounts_bp, requests_bp, instruction_bp, authorizations_bp):
        app.register_blueprint(blueprint)

    from datapass import oauth
    from datapass.producers.views import bp as producers_bp

    oauth.init_app(app)  # authorization server, signing keys, CSRF-exempt OAuth endpoints
    app.register_blueprint(producers_bp)

    from datapass import cli, templating

    templating.init_app(app)
    cli.init_app(app)
    _register_error_pages(app)

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
    for status, message in messages.items():
        app.register_error_handler(
            status,
            lambda error, s=status, m=message: (
                render_template("error.html", status=s, message=m),
                s,
            ),
        )
