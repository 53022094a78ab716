"""API v1 requests: list, create, read, edit, submit, decide, and their audit trail.

Reads go through datapass.access with the client's owner (outside its scope: 404); writes go
through datapass.lifecycle.services, the same as the web pages, then commit once.
"""

from __future__ import annotations

from flask import jsonify, request, url_for
from sqlalchemy import func, select

from datapass import access
from datapass.accounts.models import Organization, User
from datapass.accounts.siret import InvalidSiret, normalize_siret
from datapass.api import queries
from datapass.api.auth import owner, require_scope
from datapass.api.blueprint import bp
from datapass.api.problems import ApiProblem, field_error, validation_problem
from datapass.api.serializers import event_json, request_json
from datapass.api.validation import clean_data, completeness_errors, json_body, reject_unknown
from datapass.catalog import all_definitions, get_definition
from datapass.errors import CHANGED_MEANWHILE, Forbidden
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.lifecycle.models import Event
from datapass.requests.models import AuthorizationRequest
from workflows.machines import REQUEST_STATES

DECISIONS = ("approve", "refuse", "request_changes")


@bp.get("/requests")
@require_scope("read_requests")
def list_requests():
    args = request.args
    query = queries.filter_list(
        queries.visible_requests(owner()), AuthorizationRequest, args, REQUEST_STATES
    )
    if args.get("updated_since"):
        since = queries.parse_datetime(args["updated_since"], "query.updated_since")
        query = query.where(AuthorizationRequest.updated_at >= since)
    return jsonify(queries.page(query, AuthorizationRequest, args, request_json))


def _created(request_obj: AuthorizationRequest):
    response = jsonify(request_json(request_obj))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_request", request_id=request_obj.id)
    return response


@bp.post("/requests")
@require_scope("write_requests")
def create_request():
    """A draft for the applicant (by email, default the owner) of the organisation (SIRET)."""
    body = json_body()
    reject_unknown(body, {"definition", "siret", "applicant_email", "data"})
    definition = all_definitions().get(str(body.get("definition")))
    errors = []
    if definition is None or not (definition.public or definition.stage is not None):
        errors.append(field_error("definition", "Définition inconnue ou fermée aux demandes."))
    organization = None
    try:
        siret = normalize_siret(str(body.get("siret") or ""))
    except InvalidSiret as error:
        errors.append(field_error("siret", str(error)))
    else:
        organization = db.session.scalar(select(Organization).where(Organization.siret == siret))
        if organization is None:
            errors.append(field_error("siret", "Aucune organisation connue avec ce SIRET."))
    user = owner()
    applicant = user
    if body.get("applicant_email") not in (None, user.email):
        email = str(body["applicant_email"]).strip().lower()
        applicant = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if applicant is None:
            errors.append(field_error("applicant_email", "Aucun compte avec cette adresse."))
    if errors:
        raise validation_problem(errors)
    data = clean_data(definition, body.get("data") or {}, {})
    if applicant.id != user.id and not user.is_member_of(organization.id):
        raise Forbidden("Vous n'êtes pas membre de cette organisation.")
    request_obj = services.start_request(applicant, definition, organization)
    if data:
        services.save_step(request_obj, applicant, data)
    db.session.commit()
    return _created(request_obj)


@bp.get("/requests/<int:request_id>")
@require_scope("read_requests")
def get_request(request_id: int):
    return jsonify(request_json(access.any_request_or_404(owner(), request_id)))


def _check_lock_version(body: dict, request_obj: AuthorizationRequest) -> None:
    expected = body.get("lock_version")
    if expected is None:
        return
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise validation_problem([field_error("lock_version", "Un entier est attendu.")])
    if expected != request_obj.lock_version:
        raise ApiProblem(409, "state_conflict", CHANGED_MEANWHILE)


@bp.patch("/requests/<int:request_id>")
@require_scope("write_requests")
def update_request(request_id: int):
    """Merge `data` into a draft or a request sent back for changes."""
    request_obj = access.any_request_or_404(owner(), request_id)
    body = json_body()
    reject_unknown(body, {"data", "lock_version"})
    if request_obj.applicant_id != owner().id:
        raise Forbidden("Seul le demandeur modifie sa demande.")
    if not request_obj.is_editable:
        raise ApiProblem(
            409,
            "state_conflict",
            f"Une demande à l'état « {request_obj.state} » ne se modifie pas.",
        )
    _check_lock_version(body, request_obj)
    definition = get_definition(request_obj.definition_id)
    data = clean_data(definition, body.get("data", {}), dict(request_obj.data), request_obj)
    services.save_step(request_obj, owner(), data)
    db.session.commit()
    return jsonify(request_json(request_obj))


@bp.post("/requests/<int:request_id>/submit")
@require_scope("write_requests")
def submit_request(request_id: int):
    request_obj = access.any_request_or_404(owner(), request_id)
    body = json_body()
    reject_unknown(body, {"terms_accepted", "dpo_informed", "lock_version"})
    _check_lock_version(body, request_obj)
    if request_obj.applicant_id == owner().id and request_obj.is_editable:
        errors = completeness_errors(get_definition(request_obj.definition_id), request_obj)
        for name in ("terms_accepted", "dpo_informed"):
            if body.get(name) is not True:
                errors.append(field_error(name, "Doit valoir true pour soumettre."))
        if errors:
            raise validation_problem(errors)
    services.submit_request(
        request_obj,
        owner(),
        terms_accepted=body.get("terms_accepted") is True,
        dpo_informed=body.get("dpo_informed") is True,
    )
    db.session.commit()
    return jsonify(request_json(request_obj))


@bp.post("/requests/<int:request_id>/decisions")
@require_scope("instruct")
def decide(request_id: int):
    """An instructor's decision: approve (optional message), refuse or request changes (reason)."""
    request_obj = access.any_request_or_404(owner(), request_id)
    body = json_body()
    reject_unknown(body, {"decision", "reason", "message", "lock_version"})
    decision = body.get("decision")
    text = body.get("reason") if body.get("reason") is not None else body.get("message")
    errors = []
    if decision not in DECISIONS:
        errors.append(field_error("decision", f"Valeurs possibles : {', '.join(DECISIONS)}."))
    if text is not None and not isinstance(text, str):
        errors.append(field_error("reason", "Un texte est attendu."))
    elif decision in ("refuse", "request_changes") and not (text or "").strip():
        errors.append(field_error("reason", "Un motif est obligatoire pour cette décision."))
    if errors:
        raise validation_problem(errors)
    if not services.can_instruct(request_obj, owner()):
        raise Forbidden("Vous n'instruisez pas cette API.")
    _check_lock_version(body, request_obj)
    version = request_obj.lock_version
    authorization_id = None
    if decision == "approve":
        authorization_id = services.approve_request(request_obj, owner(), text, version).id
    elif decision == "refuse":
        services.refuse_request(request_obj, owner(), text, version)
    else:
        services.request_changes(request_obj, owner(), text, version)
    db.session.commit()
    return jsonify(request=request_json(request_obj), authorization_id=authorization_id)


@bp.get("/requests/<int:request_id>/events")
@require_scope("read_requests")
def request_events(request_id: int):
    request_obj = access.any_request_or_404(owner(), request_id)
    events = db.session.scalars(
        select(Event).where(Event.request_id == request_obj.id).order_by(Event.id)
    ).all()
    return jsonify(items=[event_json(e) for e in events], total=len(events))
