"""The create-admin and grant-role commands, and the sign-in settings' validation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datapass.accounts.models import User
from datapass.config import ConfigError, load_config
from datapass.extensions import db
from datapass.lifecycle.models import Event


def _user(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            _ = user.roles
            db.session.expunge(user)
        return user


def test_create_admin(app):
    runner = app.test_cli_runner()
    assert "--given-name" in runner.invoke(args=["create-admin", "--help"]).output

    missing = runner.invoke(args=["create-admin", "ops@example.gouv.fr"])
    assert missing.exit_code != 0 and "--given-name" in missing.output
    assert _user(app, "ops@example.gouv.fr") is None

    bad = runner.invoke(args=["create-admin", "not-an-email", "--given-name", "A"])
    assert bad.exit_code != 0 and "EMAIL" in bad.output

    ok = runner.invoke(
        args=["create-admin", "Ops@Example.gouv.fr", "--given-name", "Ops", "--family-name", "X"]
    )
    assert ok.exit_code == 0, ok.output
    assert _user(app, "ops@example.gouv.fr").is_admin
    again = runner.invoke(args=["create-admin", "ops@example.gouv.fr"])
    assert again.exit_code == 1 and "already an administrator" in again.output
    with app.app_context():
        assert db.session.scalar(select(Event.name).where(Event.name == "create_admin"))


def test_grant_role(app, factory):
    factory.user(email="agent@example.gouv.fr")
    runner = app.test_cli_runner()
    help_text = runner.invoke(args=["grant-role", "--help"]).output
    assert "provider:<slug>" in help_text

    for args, message in (
        (["nobody@example.gouv.fr", "instructor", "api_particulier"], "No account"),
        (["agent@example.gouv.fr", "boss", "api_particulier"], "Rôle inconnu"),
        (["agent@example.gouv.fr", "instructor", "api_nothing"], "Périmètre inconnu"),
    ):
        result = runner.invoke(args=["grant-role", *args])
        assert result.exit_code == 1 and message in result.output, result.output
    assert _user(app, "agent@example.gouv.fr").roles == []

    ok = runner.invoke(args=["grant-role", "agent@example.gouv.fr", "manager", "provider:dinum"])
    assert ok.exit_code == 0, ok.output
    assert [(r.role, r.definition_id) for r in _user(app, "agent@example.gouv.fr").roles] == [
        ("manager", "provider:dinum")
    ]
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.name == "grant_role"))
        assert event.user_id is None and event.changes["scope"] == "provider:dinum"


BASE = {"ENV_NAME": "testing", "SECRET_KEY": "k" * 40}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"OIDC_ISSUER": "https://idp.example"}, "DATAPASS_OIDC_CLIENT_ID"),
        ({"OIDC_CLIENT_SECRET": "s"}, "DATAPASS_OIDC_ISSUER"),
        (
            {"OIDC_ISSUER": "idp.example", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"},
            "expected an http(s) URL",
        ),
        (
            {
                "ENV_NAME": "production",
                "DEV_LOGIN": False,
                "OIDC_ISSUER": "http://idp.example",
                "OIDC_CLIENT_ID": "c",
                "OIDC_CLIENT_SECRET": "s",
            },
            "must use https in production",
        ),
        ({"OIDC_SCOPES": "email siret"}, "must include openid"),
        ({"SESSION_LIFETIME": 13 * 3600}, "DATAPASS_SESSION_LIFETIME"),
        ({"DIRECTORY_BACKEND": "ldap"}, "DATAPASS_DIRECTORY_BACKEND"),
        ({"ENV_NAME": "production", "DEV_LOGIN": True}, "development login cannot be enabled"),
    ],
)
def test_bad_sign_in_settings_stop_start_up(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config({**BASE, **overrides})


def test_production_defaults(monkeypatch):
    monkeypatch.delenv("DATAPASS_DIRECTORY_BACKEND", raising=False)
    config = load_config({"ENV_NAME": "production", "SECRET_KEY": "k" * 40})
    assert config["DEV_LOGIN"] is False
    assert config["DIRECTORY_BACKEND"] == "api"
    assert config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 12 * 3600
    assert load_config(BASE)["DIRECTORY_BACKEND"] == "sandbox"


def test_production_has_no_development_login(make_app):
    app = make_app(ENV_NAME="production", SECRET_KEY="p" * 40)
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200 and "login-" not in page.text
    assert "pas configurée" in page.text
    assert client.post("/login", data={"email": "x@example.gouv.fr"}).status_code == 404
    assert client.get("/login/oidc").status_code == 404


def test_refresh_organizations(app, factory):
    from datapass.accounts.models import Organization

    with app.app_context():
        db.session.add(Organization(siret="21920023500014", name="Clamart (ancien nom)"))
        db.session.commit()
    factory.organization()  # unknown to the register: reported, kept as is
    runner = app.test_cli_runner()
    result = runner.invoke(args=["refresh-organizations"])
    assert result.exit_code == 1
    assert "1 organisation(s) refreshed, 1 failed." in result.output
    assert "introuvable" in result.output
    with app.app_context():
        clamart = db.session.scalar(
            select(Organization).where(Organization.siret == "21920023500014")
        )
        assert clamart.name == "COMMUNE DE CLAMART" and clamart.address
    again = runner.invoke(args=["refresh-organizations"])
    assert "0 organisation(s) refreshed, 1 failed." in again.output  # at most daily


def test_beat_refreshes_organizations_daily(app, factory):
    """The task beat runs each night: same refresh as the command, failures logged, not raised."""
    from datapass.accounts.models import Organization

    schedule = app.extensions["celery"].conf.beat_schedule["refresh-organizations"]
    assert schedule["task"] == "datapass.accounts.refresh_organizations"
    with app.app_context():
        db.session.add(Organization(siret="21920023500014", name="Clamart (ancien nom)"))
        db.session.commit()
    factory.organization()  # unknown to the register
    task = app.extensions["celery"].tasks[schedule["task"]]
    with app.app_context():
        assert task.apply().get() == {"refreshed": 1, "failed": 1}
        clamart = db.session.scalar(
            select(Organization).where(Organization.siret == "21920023500014")
        )
        assert clamart.name == "COMMUNE DE CLAMART"
        assert task.apply().get() == {"refreshed": 0, "failed": 1}  # at most daily
