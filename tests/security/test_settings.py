"""Security settings: read from the environment, a bad value stops start-up naming it."""

from __future__ import annotations

import pytest

from datapass.config import ConfigError, load_config


def test_the_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATAPASS_ENV", "testing")
    monkeypatch.setenv("DATAPASS_SIGNIN_RATE_LIMIT", "7")
    monkeypatch.setenv("DATAPASS_PUBLIC_RATE_LIMIT", "0")
    monkeypatch.setenv("DATAPASS_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("DATAPASS_DOCUMENT_SCANNER", "tests.security.scanners:eicar_scanner")
    config = load_config()
    assert config["SIGNIN_RATE_LIMIT"] == 7
    assert config["PUBLIC_RATE_LIMIT"] == 0
    assert config["OAUTH_INTROSPECT_RATE_LIMIT"] == 60_000
    assert config["RATELIMIT_STORAGE_URL"] == "redis://127.0.0.1:1/0"
    assert config["HSTS_MAX_AGE"] == 365 * 24 * 3600


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNIN_RATE_LIMIT", "beaucoup"),
        ("OAUTH_INTROSPECT_RATE_LIMIT", "-1"),
        ("RATELIMIT_STORAGE_URL", "memcached://cache:11211"),
        ("DOCUMENT_SCANNER", "clamav"),
        ("DOCUMENT_SCANNER", "tests.security.scanners:absent"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_setting(monkeypatch, name, value):
    monkeypatch.setenv("DATAPASS_ENV", "testing")
    monkeypatch.setenv(f"DATAPASS_{name}", value)
    with pytest.raises(ConfigError, match=f"DATAPASS_{name}"):
        load_config()
