"""Expiry of authorizations and reminders, run by `datapass lifecycle tick` (the beat task
calls the same function): expired credentials stop, reminders go out once, stale drafts are
reminded then archived, a reopening is never swept away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from datapass.config import ConfigError, load_config
from datapass.extensions import db
from datapass.lifecycle import expiry
from datapass.requests.models import AuthorizationRequest

PRODUCTION = "api_impot_particulier_production"  # authorizations valid 1095 days


def _tick(app, now: datetime):
    result = app.test_cli_runner().invoke(args=["lifecycle", "tick", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return dict(part.split("=") for part in result.output.split())


def test_an_expired_authorization_is_marked_and_its_credential_stops(world, app):
    request_id = world.validated(PRODUCTION)
    [(authorization_id, _, _)] = world.authorizations(request_id)
    client_id, secret = world.credential(authorization_id)
    token = world.token(client_id, secret).json["access_token"]
    now = datetime.now(UTC)

    assert _tick(app, now)["expired"] == "0"
    reminded = _tick(app, now + timedelta(days=1095 - 10))
    assert reminded["expiry_reminders"] == "1"
    assert _tick(app, now + timedelta(days=1095 - 5))["expiry_reminders"] == "0"  # once
    assert "remind_expiry" in world.events(request_id)
    assert world.introspect(token, PRODUCTION)["active"] is True

    assert _tick(app, now + timedelta(days=1096))["expired"] == "1"
    assert world.authorizations(request_id)[0][1] == "expired"
    # At the real clock the token would still be in its lifetime: the state stops it.
    assert world.introspect(token, PRODUCTION) == {"active": False}
    assert world.token(client_id, secret).json["error"] == "invalid_grant"
    event = world.last_event(request_id, "expire")
    assert (event.from_state, event.to_state, event.user_id) == ("active", "expired", None)
    page = world.as_applicant.get(f"/authorizations/{authorization_id}")
    assert "Expirée" in page.text
    assert _tick(app, now + timedelta(days=1097))["expired"] == "0"
    # Renewal: the request is reopened and validated again, unchanged if need be; the same
    # client_id and secret work again, under the new authorization.
    assert world.as_applicant.post(f"/requests/{request_id}/reopen").status_code == 302
    assert world.submit(request_id).status_code == 302
    assert world.decide(request_id, "approve").status_code == 302
    [(_, first_state, _), (renewed_id, renewed_state, _)] = world.authorizations(request_id)
    assert (first_state, renewed_state) == ("expired", "active")
    renewed = world.token(client_id, secret)
    assert renewed.status_code == 200
    assert world.introspect(renewed.json["access_token"], PRODUCTION)["authorization_id"] == (
        renewed_id
    )


def _age(app, request_id: int, days: int) -> None:
    """Pretend the draft was last touched `days` ago (time travel for the sweep)."""
    with app.app_context():
        db.session.execute(
            update(AuthorizationRequest)
            .where(AuthorizationRequest.id == request_id)
            .values(updated_at=datetime.now(UTC) - timedelta(days=days))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def test_stale_drafts_are_reminded_then_archived_unless_touched(world, app):
    now = datetime.now(UTC)
    stale = world.factory.request(world.applicant, world.org)
    touched = world.factory.request(world.applicant, world.org)
    fresh = world.factory.request(world.applicant, world.org)
    reopened = world.validated()
    world.as_applicant.post(f"/requests/{reopened}/reopen")
    for request_id in (stale, touched, reopened):
        _age(app, request_id, 60)

    with app.app_context():
        sweep = expiry.remind_and_archive_stale_drafts(now - timedelta(days=20))
        db.session.commit()
    assert (sweep.reminded, sweep.archived) == (2, 0)
    assert "remind_draft" in world.events(stale) and "remind_draft" in world.events(touched)
    assert "remind_draft" not in world.events(reopened) + world.events(fresh)

    world.choose_scopes(touched, ["cnaf_quotient_familial"])  # touched after the reminder
    report = _tick(app, now + timedelta(days=31))
    assert report["archived_drafts"] == "1" and report["draft_reminders"] == "2"
    assert world.state(stale) == "archived"
    assert world.last_event(stale, "archive").user_id is None
    assert world.state(touched) == "draft"  # reminded again instead of archived
    assert world.state(fresh) == "draft"  # reminded now, archived only later
    assert world.state(reopened) == "draft"
    assert world.events(touched).count("remind_draft") == 2


def test_bad_settings_and_bad_input_are_clear_errors(app, monkeypatch):
    monkeypatch.setenv("DATAPASS_DRAFT_REMINDER_DAYS", "trente")
    with pytest.raises(ConfigError, match="DATAPASS_DRAFT_REMINDER_DAYS='trente'"):
        load_config({"ENV_NAME": "testing"})
    with pytest.raises(ConfigError, match="DATAPASS_DRAFT_ARCHIVE_DAYS=0"):
        load_config({"ENV_NAME": "testing", "DRAFT_REMINDER_DAYS": 3, "DRAFT_ARCHIVE_DAYS": 0})
    result = app.test_cli_runner().invoke(args=["lifecycle", "tick", "--now", "demain"])
    assert result.exit_code != 0
    assert "ISO 8601" in result.output
