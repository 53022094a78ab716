"""API v1 (/api/v1): JSON for integrators and producers, authenticated by API clients' bearer
tokens (OAuth 2 client credentials from /oauth/token); errors are RFC 9457 problem documents.
Its contract is openapi.yaml, served at /api/v1/openapi.json and checked by tests/api."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml
from flask import Flask

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


@functools.cache
def _parsed_openapi() -> dict:
    # Parsed once per process (the C loader when PyYAML has it): every create_app needs it.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(OPENAPI_PATH.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506


def load_openapi() -> dict:
    return copy.deepcopy(_parsed_openapi())


def init_app(app: Flask) -> None:
    from datapass.api import authorizations, requests, views, webhooks  # noqa: F401 - routes
    from datapass.api.blueprint import AnythingConverter, bp
    from datapass.extensions import csrf

    app.extensions[views.OPENAPI_EXTENSION] = load_openapi()
    csrf.exempt(bp)  # bearer tokens, no cookies: no CSRF to fear
    app.url_map.converters["anything"] = AnythingConverter
    app.register_blueprint(bp)
