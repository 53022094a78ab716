"""Settings from DATAPASS_* variables (datapass/config.py): a bad one stops start-up, named."""

from __future__ import annotations

import os

import pytest

from datapass import create_app
from datapass.config import INSECURE_SECRET_KEY, ConfigError, load_config, validate
from tests.conftest import _config

GOOD_SECRET = "k" * 32


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No DATAPASS_* variable of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith("DATAPASS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATAPASS_VAR_DIR", str(tmp_path))


def _production(monkeypatch, secret: str | None = GOOD_SECRET) -> None:
    monkeypatch.setenv("DATAPASS_ENV", "production")
    if secret is not None:
        monkeypatch.setenv("DATAPASS_SECRET_KEY", secret)


# --- environment ----------------------------------------------------------------------------


def test_production_is_the_default_environment():
    # Forgetting DATAPASS_ENV must not turn on the development login: it means production,
    # which then refuses the embedded secret.
    with pytest.raises(ConfigError, match="DATAPASS_SECRET_KEY"):
        load_config()


@pytest.mark.parametrize("env", ["development", "testing"])
def test_development_and_testing_start_on_the_embedded_defaults(monkeypatch, env):
    monkeypatch.setenv("DATAPASS_ENV", env)
    config = load_config()
    assert config["ENV_NAME"] == env
    assert config["SECRET_KEY"] == INSECURE_SECRET_KEY
    assert config["DEV_LOGIN"] is True
    assert config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("env", ["staging", "prod", "Production", ""])
def test_unknown_environment_is_refused(monkeypatch, env):
    monkeypatch.setenv("DATAPASS_ENV", env)
    with pytest.raises(ConfigError) as excinfo:
        load_config()
    message = str(excinfo.value)
    assert message.startswith(f"DATAPASS_ENV={env!r}")
    assert "development, testing, production" in message


def test_unknown_environment_in_overrides_is_refused():
    with pytest.raises(ConfigError, match="DATAPASS_ENV='recette'"):
        load_config({"ENV_NAME": "recette"})


# --- production -----------------------------------------------------------------------------


def test_production_with_the_default_secret_key_is_refused(monkeypatch):
    _production(monkeypatch, secret=None)
    with pytest.raises(ConfigError) as excinfo:
        load_config()
    assert str(excinfo.value).startswith("DATAPASS_SECRET_KEY:")
    assert "32" in str(excinfo.value)


def test_production_with_the_default_secret_key_given_explicitly_is_refused(monkeypatch):
    _production(monkeypatch, secret=INSECURE_SECRET_KEY)
    with pytest.raises(ConfigError, match="^DATAPASS_SECRET_KEY:"):
        load_config()


@pytest.mark.parametrize("secret", ["", "short", "k" * 31])
def test_production_with_a_short_secret_key_is_refused(monkeypatch, secret):
    _production(monkeypatch, secret=secret)
    with pytest.raises(ConfigError, match="^DATAPASS_SECRET_KEY:"):
        load_config()


def test_production_with_a_good_secret_starts_safely(monkeypatch):
    _production(monkeypatch)
    config = load_config()
    assert config["ENV_NAME"] == "production"
    assert config["DEV_LOGIN"] is False
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True


def test_development_login_cannot_be_enabled_in_production(monkeypatch):
    _production(monkeypatch)
    with pytest.raises(ConfigError, match="^DEV_LOGIN: the development login cannot be enabled"):
        load_config({"DEV_LOGIN": True})


def test_development_login_can_be_disabled_in_development(monkeypatch):
    monkeypatch.setenv("DATAPASS_ENV", "development")
    assert load_config({"DEV_LOGIN": False})["DEV_LOGIN"] is False


def test_validate_checks_a_config_built_elsewhere(monkeypatch):
    _production(monkeypatch)
    config = load_config()
    validate(config)  # a valid one passes
    with pytest.raises(ConfigError, match="^DEV_LOGIN"):
        validate({**config, "DEV_LOGIN": True})
    with pytest.raises(ConfigError, match="^DATAPASS_SECRET_KEY"):
        validate({**config, "SECRET_KEY": INSECURE_SECRET_KEY})


def test_create_app_refuses_an_unsafe_production_config(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="^DATAPASS_SECRET_KEY"):
        create_app({**_config(tmp_path), "ENV_NAME": "production", "SECRET_KEY": "court"})
    with pytest.raises(ConfigError, match="^DEV_LOGIN"):
        create_app({**_config(tmp_path), "ENV_NAME": "production", "DEV_LOGIN": True})


# --- values from the environment ------------------------------------------------------------


def test_integer_settings_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATAPASS_ENV", "testing")
    monkeypatch.setenv("DATAPASS_MAX_DOCUMENT_SIZE", "2048")
    monkeypatch.setenv("DATAPASS_MAX_DOCUMENTS", "3")
    monkeypatch.setenv("DATAPASS_UPLOAD_DIR", str(tmp_path / "pdf"))
    config = load_config()
    assert config["MAX_DOCUMENT_SIZE"] == 2048
    assert config["MAX_DOCUMENTS"] == 3
    assert config["UPLOAD_DIR"] == str(tmp_path / "pdf")
    # One form post carries at most every document plus the rest of the form.
    assert config["MAX_CONTENT_LENGTH"] == 3 * 2048 + 1024 * 1024


def test_var_dir_moves_the_embedded_database_and_uploads(monkeypatch, tmp_path):
    monkeypatch.setenv("DATAPASS_ENV", "testing")
    config = load_config()
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'datapass.sqlite3'}"
    assert config["UPLOAD_DIR"] == str(tmp_path / "uploads")


NUMERIC_SETTINGS = [
    "MAX_DOCUMENT_SIZE",
    "MAX_DOCUMENTS",
    "OAUTH_SECRET_GRACE_PERIOD",
    "OAUTH_TOKEN_RATE_LIMIT",
    "OAUTH_KEY_RELOAD_INTERVAL",
    "SESSION_LIFETIME",
]


@pytest.mark.parametrize("name", NUMERIC_SETTINGS)
@pytest.mark.parametrize("value", ["10Mo", "-1"])
def test_bad_number_in_the_environment_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv("DATAPASS_ENV", "testing")
    monkeypatch.setenv(f"DATAPASS_{name}", value)
    with pytest.raises(ConfigError) as excinfo:
        load_config()
    assert f"DATAPASS_{name}" in str(excinfo.value)
    assert repr(value) in str(excinfo.value) or value in str(excinfo.value)
