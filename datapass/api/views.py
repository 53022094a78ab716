"""API v1: who am I, the catalogue of definitions, the OpenAPI document."""

from __future__ import annotations

from flask import current_app, g, jsonify

from datapass.api.auth import owner
from datapass.api.blueprint import bp
from datapass.api.problems import ApiProblem
from datapass.api.serializers import definition_json, organization_json, user_json
from datapass.catalog import all_definitions

OPENAPI_EXTENSION = "datapass.api.openapi"


@bp.get("/openapi.json")
def openapi_json():
    response = jsonify(current_app.extensions[OPENAPI_EXTENSION])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/me")
def me():
    user = owner()
    return jsonify(
        user=user_json(user),
        is_admin=user.is_admin,
        organizations=[organization_json(o) for o in user.organizations],
        roles=[{"role": r.role, "definition": r.definition_id} for r in user.roles],
        client={"client_id": g.api_client.client_id, "name": g.api_client.name},
        scopes=sorted(g.api_scopes),
    )


def _listed():
    """The catalogue as the web shows it, plus the stages one may request (sandbox...)."""
    return [d for d in all_definitions().values() if d.public or d.stage is not None]


@bp.get("/definitions")
def definitions():
    listed = sorted(_listed(), key=lambda d: d.id)
    return jsonify(items=[definition_json(d) for d in listed], total=len(listed))


@bp.get("/definitions/<definition_id>")
def definition(definition_id: str):
    found = next((d for d in _listed() if d.id == definition_id), None)
    if found is None:
        raise ApiProblem(404, "not_found", "Définition inconnue.")
    return jsonify(definition_json(found, full=True))
