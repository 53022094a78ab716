"""Every request and authorization endpoint × every role: a client gets its owner's rights.

Outside the owner's view: 404; visible but not the owner's to do: 403; allowed: 200.
"""

from __future__ import annotations

import pytest

from datapass.extensions import db

ENDPOINTS = [
    ("GET", "/requests/{draft}"),
    ("GET", "/requests/{submitted}/events"),
    ("GET", "/authorizations/{authorization}"),
    ("PATCH", "/requests/{draft}"),
    ("POST", "/requests/{draft}/submit"),
    ("POST", "/requests/{submitted}/decisions"),
    ("POST", "/authorizations/{authorization}/revoke"),
]
BODIES = {
    "PATCH /requests/{draft}": {"data": {"intitule": "Cantine"}},
    "POST /requests/{draft}/submit": {"terms_accepted": True, "dpo_informed": True},
    "POST /requests/{submitted}/decisions": {"decision": "approve"},
    "POST /authorizations/{authorization}/revoke": {"reason": "Fin du projet"},
}
# Expected statuses, in the order of ENDPOINTS.
MATRIX = {
    "applicant": [200, 200, 200, 200, 200, 403, 403],
    "colleague": [200, 200, 200, 403, 403, 403, 403],
    "reporter": [200, 200, 200, 403, 403, 403, 403],
    "instructor": [200, 200, 200, 403, 403, 200, 200],
    "instructor_elsewhere": [404, 404, 404, 404, 404, 404, 404],
    "outsider": [404, 404, 404, 404, 404, 404, 404],
    "admin": [200, 200, 200, 403, 403, 200, 200],
}


@pytest.fixture
def world(app, factory):
    from datapass.authorizations.models import Authorization

    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    instructor = factory.user(roles=(("instructor", "api_particulier"),))
    users = {
        "applicant": applicant,
        "colleague": factory.user(organizations=(org,)),
        "reporter": factory.user(roles=(("reporter", "api_particulier"),)),
        "instructor": instructor,
        "instructor_elsewhere": factory.user(roles=(("instructor", "api_entreprise"),)),
        "outsider": factory.user(organizations=(factory.organization(),)),
        "admin": factory.user(admin=True),
    }
    validated = factory.request(applicant, org, state="validated", instructor_id=instructor)
    with app.app_context():
        authorization = db.session.scalar(
            db.select(Authorization).filter_by(request_id=validated)
        ).id
    ids = {
        "draft": factory.request(applicant, org),
        "submitted": factory.request(applicant, org, state="submitted"),
        "authorization": authorization,
    }
    return users, ids


@pytest.mark.parametrize("role", MATRIX)
def test_endpoint_by_role(world, api_for, role):
    users, ids = world
    api = api_for(users[role])
    got = []
    for method, template in ENDPOINTS:
        body = BODIES.get(f"{method} {template}")
        response = api.call(method, template.format(**ids), json=body)
        got.append(response.status_code)
        if response.status_code in (403, 404):
            assert response.json["code"] in ("forbidden", "not_found"), response.json
    assert got == MATRIX[role]
