"""RFC 9457 problem documents: every error of API v1, with a machine-readable `code` and, for
validation errors, the path of each field at fault (`data.intitule`, `query.state`)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from datapass.errors import Conflict, DomainError, Forbidden
from datapass.extensions import db

PROBLEM_TYPE = "https://datapass.api.gouv.fr/problems/"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}


class ApiProblem(Exception):
    """An error answered as a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers, self.extra = errors, headers or {}, extra


def field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def validation_problem(errors: list[dict[str, str]], **extra: Any) -> ApiProblem:
    return ApiProblem(
        422, "validation_failed", "La requête contient des erreurs.", errors=errors, **extra
    )


def problem_response(problem: ApiProblem) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + problem.code,
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update(problem.extra)
    response = jsonify(body)
    response.status_code = problem.status
    response.content_type = "application/problem+json"
    response.headers.update(problem.headers)
    return response


def register_handlers(bp) -> None:
    """Errors raised by API views become problem documents; nothing half-written stays."""

    @bp.errorhandler(ApiProblem)
    def api_problem(problem: ApiProblem):
        db.session.rollback()
        return problem_response(problem)

    @bp.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if isinstance(error, Conflict):
            status, code = 409, "state_conflict"
        elif isinstance(error, Forbidden):
            status, code = 403, "forbidden"
        else:
            status, code = 422, "rejected"
        return problem_response(ApiProblem(status, code, error.message))

    def http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
        detail = (
            "Ressource introuvable, ou vous n'y avez pas accès."
            if status == 404
            else (error.description or TITLES.get(status, "Error"))
        )
        return problem_response(ApiProblem(status, code, detail))

    # By code too: Flask prefers the app's handler for a code to a blueprint's for a class.
    bp.register_error_handler(HTTPException, http_error)
    for status in (400, 403, 404, 405, 413, 500):
        bp.register_error_handler(status, http_error)
