"""API v1 authorizations: list, read (credential client_id, never a secret), revoke."""

from __future__ import annotations

from flask import jsonify, request

from datapass import access
from datapass.accounts.siret import InvalidSiret, normalize_siret
from datapass.api import queries
from datapass.api.auth import owner, require_scope
from datapass.api.blueprint import bp
from datapass.api.problems import field_error, validation_problem
from datapass.api.serializers import authorization_json
from datapass.api.validation import json_body, reject_unknown
from datapass.authorizations.models import STATE_LABELS, Authorization
from datapass.catalog import all_definitions
from datapass.extensions import db
from datapass.lifecycle.revocation import revoke_authorization


@bp.get("/authorizations")
@require_scope("read_authorizations")
def list_authorizations():
    args = request.args
    query = queries.visible_authorizations(owner())
    errors = []
    if args.get("state"):
        if args["state"] not in STATE_LABELS:
            errors.append(field_error("query.state", f"États : {', '.join(STATE_LABELS)}."))
        query = query.where(Authorization.state == args["state"])
    if args.get("definition"):
        if args["definition"] not in all_definitions():
            errors.append(field_error("query.definition", "Définition inconnue."))
        query = query.where(Authorization.definition_id == args["definition"])
    if args.get("siret"):
        try:
            siret = normalize_siret(args["siret"])
        except InvalidSiret as error:
            errors.append(field_error("query.siret", str(error)))
            siret = args["siret"]
        query = queries.filter_by_siret(query, Authorization, siret)
    if errors:
        raise validation_problem(errors)
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
