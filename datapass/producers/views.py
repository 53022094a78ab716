"""Producer portal pages and JSON. Only developers of a definition (or admins) see it: anyone
else gets 404. The JSON also answers a producer credential (HTTP Basic), for scripts."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from datapass.catalog import all_definitions, definition_or_404
from datapass.extensions import db
from datapass.oauth import services
from datapass.oauth.models import PRODUCER, Credential
from datapass.oauth.validity import authorization_expires_at
from datapass.producers.queries import authorization_json, producer_authorizations

bp = Blueprint("producers", __name__, url_prefix="/producers")


def _developer_definitions() -> set[str] | None:
    """Definition ids the signed-in user is developer of (None: all, for admins); 404 if none."""
    if not current_user.is_authenticated:
        abort(404)
    ids = current_user.definitions_with("developer")
    if ids is not None and not ids:
        abort(404)
    return ids


def _basic_producer_definitions() -> set[str] | None:
    """The definition of the producer credential given by HTTP Basic, if it authenticates."""
    auth = request.authorization
    if not auth or auth.type != "basic" or not auth.username:
        return None
    credential = db.session.scalar(select(Credential).where(Credential.client_id == auth.username))
    if (
        credential is None
        or credential.kind != PRODUCER
        or credential.revoked_at
        or not credential.check_client_secret(auth.password or "")
    ):
        abort(Response(status=401, headers={"WWW-Authenticate": 'Basic realm="datapass"'}))
    return {credential.definition_id}


@bp.get("")
def index():
    ids = _developer_definitions()
    definitions = [d for d in all_definitions().values() if ids is None or d.id in ids]
    rows = producer_authorizations(ids)
    return render_template(
        "producers/index.html",
        definitions=definitions,
        rows_by_definition={
            d.id: [(a, c) for a, c in rows if a.definition_id == d.id] for d in definitions
        },
        producer_credentials=services.producer_credentials(ids),
        expires_at=authorization_expires_at,
    )


@bp.get("/authorizations.json")
def authorizations_json():
    ids = _basic_producer_definitions() or _developer_definitions()
    wanted = request.args.get("definition")
    if wanted:
        if ids is not None and wanted not in ids:
            abort(404)
        ids = {wanted}
    rows = producer_authorizations(ids)
    return jsonify(authorizations=[authorization_json(a, c) for a, c in rows])


@bp.post("/<definition_id>/credentials")
def create_credential(definition_id: str):
    """A producer credential for introspection; its secret is shown in this response only."""
    ids = _developer_definitions()
    definition = definition_or_404(definition_id)
    if ids is not None and definition.id not in ids:
        abort(404)
    credential, secret = services.issue_producer_credential(definition.id, current_user)
    db.session.commit()
    response = render_template(
        "producers/secret.html", definition=definition, credential=credential, secret=secret
    )
    return response, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.post("/credentials/<int:credential_id>/revoke")
def revoke_credential(credential_id: int):
    ids = _developer_definitions()
    credential = db.session.get(Credential, credential_id)
    if (
        credential is None
        or credential.kind != PRODUCER
        or (ids is not None and credential.definition_id not in ids)
    ):
        abort(404)
    services.revoke_producer_credential(credential, current_user)
    db.session.commit()
    flash(f"Les identifiants {credential.client_id} sont révoqués.", "success")
    return redirect(url_for(".index"))
