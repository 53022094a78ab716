"""API v1 authorizations: list, read (credential client_id, never a secret), revoke."""

from __future__ import annotations

from flask import jsonify, request

from datapass import access
from datapass.api import queries
from datapass.api.auth import owner, require_scope
from datapass.api.blueprint import bp
from datapass.api.problems import field_error, validation_problem
from datapass.api.serializers import authorization_json
from datapass.api.validation import json_body, reject_unknown
from datapass.authorizations.models import STATE_LABELS, Authorization
from datapass.extensions import db
from datapass.lifecycle.revocation import revoke_authorization


@bp.get("/authorizations")
@require_scope("read_authorizations")
def list_authorizations():
    args = request.args
    query = queries.filter_list(
        queries.visible_authorizations(owner()), Authorization, args, list(STATE_LABELS)
    )
    return jsonify(queries.page(query, Authorization, args, authorization_json))


@bp.get("/authorizations/<int:authorization_id>")
@require_scope("read_authorizations")
def get_authorization(authorization_id: int):
    return jsonify(authorization_json(access.authorization_or_404(owner(), authorization_id)))


@bp.post("/authorizations/<int:authorization_id>/revoke")
@require_scope("instruct")
def revoke(authorization_id: int):
    authorization = access.authorization_or_404(owner(), authorization_id)
    body = json_body()
    reject_unknown(body, {"reason"})
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise validation_problem([field_error("reason", "Un motif est obligatoire.")])
    revoke_authorization(authorization, owner(), reason)  # Forbidden unless instructor
    db.session.commit()
    return jsonify(authorization_json(authorization))
