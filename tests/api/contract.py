"""The OpenAPI contract: every response of /api/v1 must match the served document."""

from __future__ import annotations

import re

from flask import Flask
from jsonschema import Draft202012Validator

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def openapi_path(rule: str) -> str:
    """/api/v1/requests/<int:request_id> -> /requests/{request_id}"""
    return _CONVERTER.sub(r"{\1}", rule).removeprefix("/api/v1")


def spec_of(app: Flask) -> dict:
    from datapass.api.views import OPENAPI_EXTENSION

    return app.extensions[OPENAPI_EXTENSION]


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def check_response(app: Flask, method: str, url: str, response) -> None:
    """Find the operation by the route Flask matched, then validate status and body."""
    spec = spec_of(app)
    path = url.split("?")[0]
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(path, method=method)
    if endpoint == "api.not_found":
        assert response.status_code == 404
        schema = spec["components"]["schemas"]["Problem"]
        content_type = "application/problem+json"
    else:
        rule = next(r for r in app.url_map.iter_rules(endpoint))
        operation = spec["paths"][openapi_path(rule.rule)][method.lower()]
        status = str(response.status_code)
        assert status in operation["responses"], (
            f"{method} {url}: status {status} not documented; body {response.get_data(True)}"
        )
        documented = _resolve(spec, operation["responses"][status])
        content_type, media = next(iter(documented["content"].items()))
        schema = media["schema"]
    assert response.mimetype == content_type, (method, url, response.mimetype)
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    errors = sorted(validator.iter_errors(response.json), key=lambda e: e.path)
    assert not errors, f"{method} {url}: {[e.message for e in errors]}"
