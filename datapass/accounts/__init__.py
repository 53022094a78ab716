"""Users, organisations (SIRET), memberships, roles; sign-in (OpenID Connect + dev login)."""

from __future__ import annotations

from flask import Flask, request, session
from flask_login import current_user


def init_app(app: Flask) -> None:
    from datapass.accounts import (
        oidc,
        rights,
        tasks,  # noqa: F401  (registers the Celery task)
    )
    from datapass.accounts.admin import bp as admin_bp

    oidc.init_app(app)
    app.register_blueprint(admin_bp)
    app.jinja_env.globals.update(role_label=rights.role_label, scope_label=rights.scope_label)

    @app.before_request
    def _record_impersonated_actions():
        """Support impersonation: every change made is recorded with the admin behind it."""
        impersonator_id = session.get("impersonator_id")
        if not impersonator_id or request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if not current_user.is_authenticated:
            return
        from datapass.accounts.models import User
        from datapass.extensions import db

        admin = db.session.get(User, impersonator_id)
        rights.record_audit(
            "impersonated_action",
            admin,
            current_user._get_current_object(),
            details={"method": request.method, "path": request.path},
        )
        db.session.commit()
