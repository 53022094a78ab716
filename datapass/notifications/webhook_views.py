"""Webhook management in the producer portal: create, change, delete, attempts, replay."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from datapass.catalog import all_definitions
from datapass.extensions import db
from datapass.models_base import utcnow
from datapass.notifications import delivery, webhooks
from datapass.notifications.models import FAILED, OutboxMessage, Webhook
from datapass.notifications.outbox import WEBHOOK_EVENTS, kick
from datapass.producers.views import _developer_definitions

bp = Blueprint("webhooks", __name__, url_prefix="/producers/webhooks")

EVENT_LABELS = {
    "create": "Création",
    "update": "Modification",
    "submit": "Soumission",
    "approve": "Validation",
    "refuse": "Refus",
    "request_changes": "Modifications demandées",
    "revoke": "Révocation",
    "archive": "Archivage",
    "reopen": "Réouverture",
    "transfer": "Transfert",
}


def _definitions():
    ids = _developer_definitions()
    return [d for d in all_definitions().values() if ids is None or d.id in ids]


def _webhook_or_404(webhook_id: int) -> Webhook:
    ids = _developer_definitions()
    hook = db.session.get(Webhook, webhook_id)
    if hook is None or (ids is not None and hook.definition_id not in ids):
        abort(404)
    return hook


def _read_form(definitions) -> tuple[dict, list[str]]:
    errors = []
    url = (request.form.get("url") or "").strip()
    events = [e for e in request.form.getlist("events") if e in WEBHOOK_EVENTS]
    definition_id = request.form.get("definition_id", "")
    if definition_id not in {d.id for d in definitions}:
        errors.append("Choisissez une de vos API.")
    if len(url) > 500:
        errors.append("L'adresse fait 500 caractères au plus.")
    else:
        try:
            webhooks.check_url(url)
        except webhooks.UnsafeURL as exc:
            errors.append(str(exc))
    if not events:
        errors.append("Choisissez au moins un événement.")
    return {"url": url, "events": events, "definition_id": definition_id}, errors


def _ping(hook: Webhook) -> webhooks.Response:
    """Test ping on create or change: the webhook is enabled only if it answers 2xx.

    The change is committed first, the webhook disabled until the ping answers: no write
    transaction stays open while the receiver takes its time (up to WEBHOOK_TIMEOUT), which on
    SQLite would lock every other writer out. The caller commits the outcome.
    """
    hook.enabled = False
    db.session.commit()
    payload = {"event": "ping", "fired_at": utcnow().isoformat(), "webhook_id": hook.id}
    response = delivery.call_webhook(hook, "ping", "ping_" + uuid.uuid4().hex, payload)
    hook.enabled = response.ok
    hook.consecutive_failures = 0
    return response


def _page(definitions, form=None, errors=(), status=200):
    ids = [d.id for d in definitions]
    hooks = db.session.scalars(
        select(Webhook).where(Webhook.definition_id.in_(ids)).order_by(Webhook.id)
    ).all()
    failed = {
        hook.id: db.session.scalar(
            select(db.func.count(OutboxMessage.id)).filter_by(webhook_id=hook.id, state=FAILED)
        )
        for hook in hooks
    }
    return render_template(
        "notifications/webhooks.html",
        definitions=definitions,
        hooks=hooks,
        failed=failed,
        events=WEBHOOK_EVENTS,
        event_labels=EVENT_LABELS,
        form=form or {},
        errors=errors,
    ), status


@bp.get("")
def index():
    return _page(_definitions())


@bp.post("")
def create():
    definitions = _definitions()
    form, errors = _read_form(definitions)
    if errors:
        return _page(definitions, form, errors, 400)
    secret = webhooks.new_secret()
    hook = Webhook(
        definition_id=form["definition_id"],
        url=form["url"],
        events=form["events"],
        secret_encrypted=webhooks.encrypt_secret(secret),
        created_by_id=current_user.id,
    )
    db.session.add(hook)
    response = _ping(hook)
    db.session.commit()
    page = render_template(
        "notifications/webhook_secret.html", hook=hook, secret=secret, ping=response
    )
    return page, 201, {"Cache-Control": "no-store"}


@bp.post("/<int:webhook_id>")
def update(webhook_id: int):
    hook = _webhook_or_404(webhook_id)
    definitions = _definitions()
    form, errors = _read_form(definitions)
    if form["definition_id"] != hook.definition_id:
        errors = [*errors, "L'API d'un webhook ne change pas : créez-en un autre."]
    if errors:
        return _page(definitions, form, errors, 400)
    hook.url, hook.events = form["url"], form["events"]
    response = _ping(hook)
    db.session.commit()
    if response.ok:
        flash("Webhook modifié : le test a réussi, il est activé.", "success")
    else:
        flash(f"Webhook modifié mais désactivé : le test a échoué ({_why(response)}).", "error")
    return redirect(url_for("webhooks.index"))


def _why(response: webhooks.Response) -> str:
    return response.error or f"réponse HTTP {response.status_code}"


@bp.post("/<int:webhook_id>/delete")
def delete(webhook_id: int):
    hook = _webhook_or_404(webhook_id)
    db.session.delete(hook)
    db.session.commit()
    flash("Webhook supprimé.", "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/<int:webhook_id>/replay")
def replay(webhook_id: int):
    """Replay this webhook's failed deliveries (after fixing the receiver)."""
    hook = _webhook_or_404(webhook_id)
    if not hook.enabled:
        flash("Réactivez d'abord le webhook (enregistrez-le : un test est envoyé).", "error")
        return redirect(url_for("webhooks.index"))
    ids = [
        row_id
        for row_id in db.session.scalars(
            select(OutboxMessage.id).filter_by(webhook_id=hook.id, state=FAILED)
        )
        if delivery.replay(row_id)
    ]
    db.session.commit()
    kick(ids)
    flash(f"{len(ids)} envoi(s) relancé(s).", "success")
    return redirect(url_for("webhooks.index"))
