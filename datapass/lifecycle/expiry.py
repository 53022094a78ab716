"""Periodic work on time: authorizations that expire, reminders before they do, stale drafts.

Run by Celery beat (worker.lifecycle_tasks) or `datapass lifecycle tick`; each function takes
`now` so that tests (and a catch-up run) choose the time. They only flush: `tick` commits.
A definition's `authorization_lifetime_days` sets when its authorizations end; their credential
already stops at that moment (datapass.oauth.validity), marking them "expired" makes it visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from datapass.authorizations.models import Authorization
from datapass.catalog import all_definitions
from datapass.extensions import db
from datapass.lifecycle import reopening, services
from datapass.lifecycle.records import DRAFT_REMINDER, EXPIRY_REMINDER, Reminder, Reopening
from datapass.oauth.validity import authorization_expires_at
from datapass.requests.models import AuthorizationRequest
from datapass.templating import format_datetime
from workflows.machines import AuthorizationFlow


def _expiring_authorizations() -> list[Authorization]:
    """Active authorizations of the definitions that set a lifetime."""
    ids = [d.id for d in all_definitions().values() if d.authorization_lifetime_days]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Authorization)
            .where(Authorization.state == "active", Authorization.definition_id.in_(ids))
            .order_by(Authorization.id)
        )
    )


def expire_authorizations(now: datetime) -> int:
    """Mark "expired" the active authorizations whose lifetime ran out; returns how many."""
    count = 0
    for authorization in _expiring_authorizations():
        expires_at = authorization_expires_at(authorization)
        if expires_at is None or expires_at > now:
            continue
        authorization.state = AuthorizationFlow(authorization.state).fire("expire")
        services.record_event(
            "expire",
            None,
            request_obj=authorization.request,
            authorization=authorization,
            from_state="active",
            to_state="expired",
            reason=f"Fin de validité le {format_datetime(expires_at, with_time=False)}",
        )
        count += 1
    services._flush()
    return count


def _reminded(kind: str, **target: int) -> Reminder | None:
    return db.session.scalar(
        select(Reminder).filter_by(kind=kind, **target).order_by(Reminder.id.desc())
    )


def remind_expiring(now: datetime) -> int:
    """Warn, once, the applicants whose authorization expires within the reminder delay."""
    ahead = timedelta(days=current_app.config["AUTHORIZATION_EXPIRY_REMINDER_DAYS"])
    count = 0
    for authorization in _expiring_authorizations():
        expires_at = authorization_expires_at(authorization)
        if expires_at is None or not (now < expires_at <= now + ahead):
            continue
        if _reminded(EXPIRY_REMINDER, authorization_id=authorization.id):
            continue
        db.session.add(
            Reminder(kind=EXPIRY_REMINDER, authorization_id=authorization.id, sent_at=now)
        )
        services.record_event(
            "remind_expiry",
            None,
            request_obj=authorization.request,
            authorization=authorization,
            reason=(
                f"L'habilitation n°{authorization.id} expire le "
                f"{format_datetime(expires_at, with_time=False)} : rouvrez la demande pour "
                "la renouveler."
            ),
        )
        count += 1
    services._flush()
    return count


@dataclass
class DraftSweep:
    reminded: int = 0
    archived: int = 0


def remind_and_archive_stale_drafts(now: datetime) -> DraftSweep:
    """Remind the applicant of a draft untouched for DRAFT_REMINDER_DAYS; archive it when still
    untouched DRAFT_ARCHIVE_DAYS after the reminder. A reopening is never swept away."""
    config = current_app.config
    stale_before = now - timedelta(days=config["DRAFT_REMINDER_DAYS"])
    grace = timedelta(days=config["DRAFT_ARCHIVE_DAYS"])
    reopened = select(Reopening.request_id).where(Reopening.ended_at.is_(None))
    drafts = db.session.scalars(
        select(AuthorizationRequest)
        .where(
            AuthorizationRequest.state == "draft",
            AuthorizationRequest.updated_at <= stale_before,
            AuthorizationRequest.id.not_in(reopened),
        )
        .order_by(AuthorizationRequest.id)
    ).all()
    sweep = DraftSweep()
    for request_obj in drafts:
        reminder = _reminded(DRAFT_REMINDER, request_id=request_obj.id)
        if reminder is None or reminder.sent_at < request_obj.updated_at:
            # Never reminded, or touched since the last reminder: the count starts again.
            db.session.add(Reminder(kind=DRAFT_REMINDER, request_id=request_obj.id, sent_at=now))
            services.record_event(
                "remind_draft",
                None,
                request_obj=request_obj,
                reason=(
                    f"Brouillon sans modification depuis le "
                    f"{format_datetime(request_obj.updated_at, with_time=False)} : il sera "
                    f"archivé dans {grace.days} jours sans nouvelle modification."
                ),
            )
            sweep.reminded += 1
        elif reminder.sent_at + grace <= now:
            services._fire(
                request_obj,
                None,
                "archive",
                reason=f"Brouillon inactif, archivé {grace.days} jours après le rappel",
                has_active_authorization=reopening.active_authorization(request_obj) is not None,
            )
            sweep.archived += 1
    services._flush()
    return sweep


@dataclass
class TickReport:
    expired: int
    reminded_expiry: int
    reminded_drafts: int
    archived_drafts: int


def tick(now: datetime) -> TickReport:
    """Run the periodic lifecycle work once, and commit it."""
    expired = expire_authorizations(now)
    reminded = remind_expiring(now)
    sweep = remind_and_archive_stale_drafts(now)
    db.session.commit()
    return TickReport(expired, reminded, sweep.reminded, sweep.archived)
