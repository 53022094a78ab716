"""Schemathesis against the served OpenAPI document: generated calls to every operation, as an
admin with every scope over real data; no 5xx, and every response as the document says."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def token(factory, api_for):
    org = factory.organization()
    admin = factory.user(organizations=(org,), admin=True)
    for state in ("draft", "submitted", "changes_requested", "validated", "refused"):
        factory.request(admin, org, state=state)
    return api_for(admin).token


@pytest.mark.parametrize(
    ("mode", "examples"), [(GenerationMode.POSITIVE, 200), (GenerationMode.NEGATIVE, 100)]
)
def test_generated_calls_match_the_document(app, token, mode, examples):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=schema.as_strategy(mode, headers=headers))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same calls on every run: CI stays deterministic
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    call()
