"""The developer portal: a developer's API clients (secret shown once) and the API docs."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from datapass.api.auth import API_SCOPES
from datapass.api.views import OPENAPI_EXTENSION
from datapass.developers import services
from datapass.developers.forms import ApiClientForm
from datapass.extensions import db
from datapass.oauth.models import API, Credential

bp = Blueprint("developers", __name__, url_prefix="/developers")


def _developer() -> None:
    if not current_user.is_authenticated or not services.can_use_portal(current_user):
        abort(404)


@bp.get("")
@login_required
def index():
    _developer()
    return render_template(
        "developers/index.html",
        form=ApiClientForm(),
        clients=services.api_clients_of(current_user),
        scopes=API_SCOPES,
    )


@bp.post("/clients")
@login_required
def create_client():
    """A new API client; its secret appears in this response only."""
    _developer()
    form = ApiClientForm()
    if not form.validate_on_submit():
        return render_template(
            "developers/index.html",
            form=form,
            clients=services.api_clients_of(current_user),
            scopes=API_SCOPES,
        ), 422
    credential, secret = services.create_api_client(current_user, form.name.data, form.scopes.data)
    db.session.commit()
    response = render_template("developers/secret.html", credential=credential, secret=secret)
    return response, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.post("/clients/<int:credential_id>/revoke")
@login_required
def revoke_client(credential_id: int):
    _developer()
    credential = db.session.get(Credential, credential_id)
    if credential is None or credential.kind != API or credential.created_by_id != current_user.id:
        abort(404)
    services.revoke_api_client(credential, current_user)
    db.session.commit()
    flash(f"Le client {credential.name} ({credential.client_id}) est révoqué.", "success")
    return redirect(url_for(".index"))


@bp.get("/docs")
def docs():
    """The OpenAPI document, rendered: the same one /api/v1/openapi.json serves."""
    return render_template("developers/docs.html", spec=current_app.extensions[OPENAPI_EXTENSION])
