"""The /api/v1 blueprint: bearer authentication before every route but the public ones, problem
documents for every error, and every Event written during an API call marked `via="api"`."""

from __future__ import annotations

from flask import Blueprint, g, has_request_context, request
from sqlalchemy import event
from werkzeug.routing import PathConverter

from datapass.api.auth import authenticate
from datapass.api.problems import ApiProblem, register_handlers
from datapass.api.queries import MAX_ID
from datapass.lifecycle.models import Event


class AnythingConverter(PathConverter):
    """A path, control characters included (`path` stops at a newline)."""

    regex = r"[\s\S]+"
    part_isolating = False  # spans "/" (werkzeug infers it from a literal "/" in the regex)


bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.not_found"}

register_handlers(bp)


@bp.url_value_preprocessor
def _ids_in_range(endpoint, values) -> None:
    if any(isinstance(v, int) and v > MAX_ID for v in (values or {}).values()):
        raise ApiProblem(404, "not_found", "Ressource introuvable, ou vous n'y avez pas accès.")


@bp.before_request
def _authenticate() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        authenticate()


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.route("/<anything:anything>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
def not_found(anything: str):
    """Unknown paths answer a problem document too, not the HTML 404 page."""
    raise ApiProblem(404, "not_found", "Ressource introuvable, ou vous n'y avez pas accès.")


@event.listens_for(Event, "before_insert")
def _mark_api_events(mapper, connection, target: Event) -> None:
    if has_request_context() and g.get("api_client") is not None:
        target.via = "api"
