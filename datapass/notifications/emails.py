"""Compose the French emails (HTML + text, Jinja) and send them by SMTP or to the dev mailbox."""

from __future__ import annotations

import os
import smtplib
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeTimedSerializer

from datapass.models_base import utcnow

SUBJECTS = {
    "submit_applicant": "Votre demande « {title} » a bien été soumise",
    "submit_instructor": "Nouvelle demande à instruire : « {title} »",
    "request_changes_applicant": "Modifications demandées sur votre demande « {title} »",
    "refuse_applicant": "Votre demande « {title} » a été refusée",
    "approve_applicant": "Votre demande « {title} » a été validée",
    "approve_delegue_protection_donnees": "Habilitation délivrée : « {title} »",
    "approve_responsable_traitement": "Habilitation délivrée : « {title} »",
    "revoke_applicant": "Votre habilitation « {title} » a été révoquée",
    "message_applicant": "Nouveau message sur votre demande « {title} »",
    "message_instructor": "Nouveau message sur la demande « {title} »",
    "transfer_applicant": "La demande « {title} » a changé de demandeur",
    "refuse_reopening_applicant": "Les modifications de « {title} » ont été refusées",
    "cancel_reopening_applicant": "La mise à jour de « {title} » a été annulée",
    "expire_applicant": "Votre habilitation « {title} » a expiré",
    "remind_expiry_applicant": "Votre habilitation « {title} » arrive à échéance",
    "remind_draft_applicant": "Votre brouillon « {title} » attend d'être complété",
    "archive_applicant": "Votre brouillon « {title} » a été archivé",
    "webhook_disabled": "Webhook désactivé pour {definition_name}",
}
INSTRUCTOR_KINDS = ("submit_instructor", "message_instructor")
_UNSUBSCRIBE_SALT = "datapass-unsubscribe"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, definition_id: str) -> str:
    return _serializer().dumps({"u": user_id, "d": definition_id})


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user_id, definition_id), or None if the token is forged or expired."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["UNSUBSCRIBE_MAX_AGE"])
        return int(data["u"]), str(data["d"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def _link(kind: str, context: dict[str, Any]) -> str | None:
    base = current_app.config["BASE_URL"].rstrip("/")
    if kind == "webhook_disabled":
        return f"{base}/producers/webhooks"
    if context.get("request_id") is None:
        return None
    if kind in INSTRUCTOR_KINDS:
        return f"{base}/instruction/requests/{context['request_id']}"
    if kind.startswith("approve_") and kind != "approve_applicant":
        return None  # contacts named in the request may have no account
    return f"{base}/requests/{context['request_id']}"


def compose(outbox) -> EmailMessage:
    """The email for one outbox row; its Message-ID is the row's idempotency key."""
    config = current_app.config
    context = dict(outbox.context)
    kind = outbox.kind
    unsubscribe = None
    if kind in INSTRUCTOR_KINDS and context.get("user_id"):
        token = unsubscribe_token(context["user_id"], context["definition_id"])
        unsubscribe = f"{config['BASE_URL'].rstrip('/')}/notifications/unsubscribe/{token}"
    values = {**context, "kind": kind, "link": _link(kind, context), "unsubscribe": unsubscribe}
    # Plain text, rendered once: the HTML template escapes it like any other value.
    values["intro"] = render_template("emails/_intro.txt", **values)
    message = EmailMessage()
    message["Subject"] = SUBJECTS[kind].format(
        title=context.get("request_title", ""), definition_name=context.get("definition_name")
    )
    message["From"] = config["MAIL_FROM"]
    message["To"] = outbox.recipient
    message["Date"] = format_datetime(utcnow())
    domain = parseaddr(config["MAIL_FROM"])[1].partition("@")[2] or "datapass.local"
    message["Message-ID"] = f"<{outbox.idempotency_key}@{domain}>"
    message["X-Datapass-Idempotency-Key"] = outbox.idempotency_key
    if unsubscribe:
        # RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe button.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(render_template("emails/notification.txt", **values))
    message.add_alternative(render_template("emails/notification.html", **values), subtype="html")
    return message


def send(message: EmailMessage) -> None:
    """Send by SMTP, or (development) write it to the mailbox directory read by /dev/mailbox."""
    config = current_app.config
    if config["MAIL_BACKEND"] == "file":
        _write_to_mailbox(message, Path(config["MAILBOX_DIR"]))
        return
    with smtplib.SMTP(
        config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def _write_to_mailbox(message: EmailMessage, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    key = message["X-Datapass-Idempotency-Key"] or make_msgid().strip("<>")
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"{stamp}-{key}.eml"
    if any(folder.glob(f"*-{key}.eml")):
        return  # already delivered to the mailbox
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(message))
    os.replace(tmp, target)
