"""Production refuses an unsafe configuration at start-up, naming the setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from datapass.config import INSECURE_SECRET_KEY, ConfigError, load_config
from datapass.oauth.keys import create_signing_key
from datapass.ops.wsgi import create_wsgi_app
from tests.conftest import _config

GOOD_SECRET = "s" * 40


@pytest.fixture(autouse=True)
def production(monkeypatch, tmp_path):
    """A production environment that starts, each test then breaks one thing."""
    for name in list(os.environ):
        if name.startswith("DATAPASS_") or name in ("AUTHLIB_INSECURE_TRANSPORT", "SENTRY_DSN"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATAPASS_ENV", "production")
    monkeypatch.setenv("DATAPASS_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATAPASS_VAR_DIR", str(tmp_path))


def test_the_production_baseline_starts():
    config = load_config()
    assert config["PREFERRED_URL_SCHEME"] == "https"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["LOG_FORMAT"] == "json"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DATAPASS_SECRET_KEY", INSECURE_SECRET_KEY, "DATAPASS_SECRET_KEY:"),
        ("DATAPASS_PREFERRED_URL_SCHEME", "http", "DATAPASS_PREFERRED_URL_SCHEME: insecure"),
        ("DATAPASS_SESSION_COOKIE_SECURE", "false", "DATAPASS_SESSION_COOKIE_SECURE: insecure"),
        ("DATAPASS_OAUTH_ISSUER", "http://datapass.example.fr", "DATAPASS_OAUTH_ISSUER: insecure"),
        ("AUTHLIB_INSECURE_TRANSPORT", "1", "AUTHLIB_INSECURE_TRANSPORT: insecure"),
        ("DATAPASS_LOG_FORMAT", "xml", "DATAPASS_LOG_FORMAT='xml'"),
        ("DATAPASS_LOG_LEVEL", "loud", "DATAPASS_LOG_LEVEL='LOUD'"),
        ("DATAPASS_TRUSTED_PROXIES", "one", "DATAPASS_TRUSTED_PROXIES='one'"),
    ],
)
def test_production_refuses_an_unsafe_setting_and_names_it(monkeypatch, variable, value, named):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as excinfo:
        load_config()
    assert str(excinfo.value).startswith(named)


def test_production_refuses_the_development_login():
    with pytest.raises(ConfigError, match="^DEV_LOGIN: "):
        load_config({"DEV_LOGIN": True})


def test_the_same_settings_are_fine_in_development(monkeypatch):
    monkeypatch.setenv("DATAPASS_ENV", "development")
    monkeypatch.setenv("DATAPASS_PREFERRED_URL_SCHEME", "http")
    monkeypatch.setenv("DATAPASS_OAUTH_ISSUER", "http://127.0.0.1:5000")
    config = load_config()
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["LOG_FORMAT"] == "text"


def test_the_web_entry_point_refuses_to_serve_without_a_signing_key(template_db, tmp_path):
    overrides = {
        **_config(tmp_path),
        "ENV_NAME": "production",
        "SECRET_KEY": GOOD_SECRET,
        "DEV_LOGIN": False,
        "WTF_CSRF_ENABLED": True,
        "LOG_FORMAT": "none",
    }
    with pytest.raises(ConfigError) as excinfo:
        create_wsgi_app(overrides)
    message = str(excinfo.value)
    assert message.startswith("DATAPASS_OAUTH_KEY_DIR: no signing key")
    assert "datapass rotate-signing-key" in message
    # Once the migrate step made it, the same process starts, and made no key of its own.
    keys = Path(tmp_path / "keys")
    create_signing_key(keys)
    app = create_wsgi_app(overrides)
    assert app.config["ENV_NAME"] == "production"
    assert len(list(keys.glob("*.jwk.json"))) == 1
