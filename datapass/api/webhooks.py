"""API v1 webhooks: the delivery attempts of a webhook of the owner's APIs (developer role)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from datapass.api import queries
from datapass.api.auth import owner, require_scope
from datapass.api.blueprint import bp
from datapass.api.problems import ApiProblem
from datapass.api.serializers import iso
from datapass.extensions import db
from datapass.notifications.models import Webhook, WebhookAttempt


def attempt_json(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "event": attempt.event,
        "success": attempt.success,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "response_excerpt": attempt.response_excerpt,
        "duration_ms": attempt.duration_ms,
        "created_at": iso(attempt.created_at),
    }


@bp.get("/webhooks/<int:webhook_id>/attempts")
@require_scope("manage_webhooks")
def webhook_attempts(webhook_id: int):
    """Newest first, paginated like the other lists; 404 unless developer of its API."""
    hook = db.session.get(Webhook, webhook_id)
    if hook is None or not owner().has_role("developer", hook.definition_id):
        raise ApiProblem(404, "not_found", "Ressource introuvable, ou vous n'y avez pas accès.")
    query = select(WebhookAttempt).where(WebhookAttempt.webhook_id == hook.id)
    return jsonify(queries.page(query, WebhookAttempt, request.args, attempt_json))
