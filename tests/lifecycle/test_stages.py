"""The production stage of API Impôt particulier, started from a validated sandbox request."""

from __future__ import annotations

from sqlalchemy import select

from datapass.extensions import db
from datapass.lifecycle.records import RequestOrigin

SANDBOX, PRODUCTION = "api_impot_particulier_sandbox", "api_impot_particulier_production"


def test_production_is_prefilled_from_the_sandbox_with_a_distinct_credential(world, app):
    sandbox_id = world.validated(SANDBOX)
    [(sandbox_authorization, _, sandbox_scopes)] = world.authorizations(sandbox_id)
    sandbox_client = world.credential(sandbox_authorization)
    page = world.as_applicant.get(f"/requests/{sandbox_id}")
    assert 'data-testid="start-production"' in page.text

    response = world.as_applicant.post(f"/requests/{sandbox_id}/production")
    assert response.status_code == 302
    with app.app_context():
        origin = db.session.scalar(
            select(RequestOrigin).where(RequestOrigin.source_request_id == sandbox_id)
        )
        production_id, kind = origin.request_id, origin.kind
    assert kind == "stage"
    assert response.headers["Location"].endswith(f"/requests/{production_id}/summary")
    sandbox, production = world.request(sandbox_id), world.request(production_id)
    assert production.definition_id == PRODUCTION
    assert production.state == "draft"
    assert production.organization_id == sandbox.organization_id
    for key, value in sandbox.data.items():
        assert production.data[key] == value, key
    assert "start_production" in world.events(sandbox_id)
    # Started once: a second click is refused with the existing request's number.
    again = world.as_applicant.post(f"/requests/{sandbox_id}/production")
    assert again.status_code == 409
    assert f"n°{production_id}" in again.text

    # The production block the sandbox lacks (volumes), then submission and validation.
    step = world.as_applicant.post(
        f"/requests/{production_id}/steps/volumes",
        data={"volumetrie_approximative": "1000", "then": "stay"},
    )
    assert step.status_code == 302, step.text
    assert world.submit(production_id).status_code == 302
    assert world.decide(production_id, "approve").status_code == 302
    [(production_authorization, state, scopes)] = world.authorizations(production_id)
    assert state == "active"
    assert scopes == sandbox_scopes
    production_client = world.credential(production_authorization)
    assert production_client[0] != sandbox_client[0]

    sandbox_token = world.token(*sandbox_client).json["access_token"]
    production_token = world.token(*production_client).json["access_token"]
    assert world.introspect(sandbox_token, SANDBOX)["aud"] == SANDBOX
    assert world.introspect(production_token, PRODUCTION)["aud"] == PRODUCTION
    # Each producer sees only its own stage's tokens.
    assert world.introspect(sandbox_token, PRODUCTION) == {"active": False}
    # Both stages live side by side: the sandbox stays active.
    assert world.authorizations(sandbox_id)[0][1] == "active"


def test_production_needs_a_validated_sandbox_and_a_member(world):
    submitted = world.factory.request(
        world.applicant, world.org, definition_id=SANDBOX, state="submitted"
    )
    response = world.as_applicant.post(f"/requests/{submitted}/production")
    assert response.status_code == 409
    assert "doit être validée" in response.text
    other = world.validated()  # API Particulier has no production stage
    response = world.as_applicant.post(f"/requests/{other}/production")
    assert response.status_code == 400
    assert "pas d&#39;étape de production" in response.text
    outsider = world.factory.user(organizations=(world.factory.organization(),))
    sandbox_id = world.validated(SANDBOX)
    assert world.client(outsider).post(f"/requests/{sandbox_id}/production").status_code == 404
    # The production definition is not in the catalogue's self-service.
    assert world.as_applicant.get(f"/requests/new/{PRODUCTION}").status_code == 404
