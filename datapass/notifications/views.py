"""Unsubscribe links, email preferences, the development mailbox, failed deliveries (admin)."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from datapass.catalog import all_definitions
from datapass.extensions import db
from datapass.notifications import delivery
from datapass.notifications.emails import read_unsubscribe_token
from datapass.notifications.models import FAILED, EmailOptOut, OutboxMessage
from datapass.notifications.outbox import kick

bp = Blueprint("notifications", __name__)


def _opt_out(user_id: int, definition_id: str) -> None:
    exists = db.session.scalar(
        select(EmailOptOut.id).filter_by(user_id=user_id, definition_id=definition_id)
    )
    if exists is None:
        db.session.add(EmailOptOut(user_id=user_id, definition_id=definition_id))


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """One click (RFC 8058): a GET shows a confirmation, a POST turns the emails off."""
    found = read_unsubscribe_token(token)
    if found is None:
        return render_template(
            "error.html",
            status=400,
            message="Ce lien de désinscription est invalide ou a expiré. Gérez vos courriels "
            "depuis vos préférences.",
        ), 400
    user_id, definition_id = found
    definition = all_definitions().get(definition_id)
    if definition is None:
        abort(404)
    if request.method == "POST":
        _opt_out(user_id, definition_id)
        db.session.commit()
        return render_template("notifications/unsubscribed.html", definition=definition)
    return render_template("notifications/unsubscribe.html", definition=definition, token=token)


@bp.route("/notifications/preferences", methods=["GET", "POST"])
def preferences():
    """An instructor turns submit/message emails on or off, per definition."""
    if not current_user.is_authenticated:
        abort(404)
    ids = current_user.definitions_with("instructor")
    definitions = [d for d in all_definitions().values() if ids is None or d.id in ids]
    if not definitions:
        abort(404)
    current = {
        o.definition_id: o
        for o in db.session.scalars(select(EmailOptOut).filter_by(user_id=current_user.id))
    }
    if request.method == "POST":
        wanted = set(request.form.getlist("definition"))
        for definition in definitions:
            if definition.id in wanted and definition.id in current:
                db.session.delete(current[definition.id])
            elif definition.id not in wanted and definition.id not in current:
                db.session.add(EmailOptOut(user_id=current_user.id, definition_id=definition.id))
        db.session.commit()
        flash("Vos préférences de courriel sont enregistrées.", "success")
        return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html", definitions=definitions, opted_out=set(current)
    )


# The development mailbox: mails written by MAIL_BACKEND=file, readable in the browser.


def _mailbox() -> Path:
    if current_app.config["ENV_NAME"] != "development":
        abort(404)
    return Path(current_app.config["MAILBOX_DIR"])


def _read(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


@bp.get("/dev/mailbox")
def mailbox():
    folder = _mailbox()
    files = sorted(folder.glob("*.eml"), reverse=True)[:200] if folder.exists() else []
    mails = [(path.stem, _read(path)) for path in files]
    return render_template("notifications/mailbox.html", mails=mails)


@bp.get("/dev/mailbox/<name>")
def mailbox_message(name: str):
    folder = _mailbox()
    path = folder / f"{name}.eml"
    if "/" in name or name.startswith(".") or not path.is_file():
        abort(404)
    message = _read(path)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return render_template(
        "notifications/mailbox_message.html",
        message=message,
        text=text.get_content() if text else "",
        html=html.get_content() if html else "",
    )


# Failed deliveries, for admins.


def _admin() -> None:
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(404)


@bp.get("/admin/notifications")
def failed_deliveries():
    _admin()
    rows = db.session.scalars(
        select(OutboxMessage).filter_by(state=FAILED).order_by(OutboxMessage.id.desc()).limit(500)
    ).all()
    return render_template("notifications/failed.html", rows=rows)


@bp.post("/admin/notifications/replay")
def replay_deliveries():
    _admin()
    ids = []
    for raw in request.form.getlist("outbox_id"):
        if not raw.isdigit():
            abort(400)
        if delivery.replay(int(raw)):
            ids.append(int(raw))
    db.session.commit()
    kick(ids)
    if ids:
        flash(f"{len(ids)} envoi(s) relancé(s).", "success")
    else:
        flash("Aucun envoi en échec sélectionné.", "error")
    return redirect(url_for("notifications.failed_deliveries"))
