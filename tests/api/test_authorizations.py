"""Authorizations through API v1: scoped reads, never a secret, revocation by instructors."""

from __future__ import annotations

import pytest

from datapass.extensions import db


@pytest.fixture
def validated(app, factory):
    """(authorization_id, request_id, applicant, org, instructor) of an approved request."""
    from datapass.authorizations.models import Authorization

    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    instructor = factory.user(roles=(("instructor", "api_particulier"),))
    request_id = factory.request(applicant, org, state="validated", instructor_id=instructor)
    with app.app_context():
        authorization = db.session.scalar(db.select(Authorization).filter_by(request_id=request_id))
        return authorization.id, request_id, applicant, org, instructor


def test_members_and_staff_read_authorizations_with_client_id(app, factory, validated, api_for):
    from datapass.oauth.models import Credential

    authorization_id, request_id, applicant, org, instructor = validated
    for user in (applicant, instructor):
        api = api_for(user, "read_authorizations")
        listed = api.get("/authorizations").json
        assert [a["id"] for a in listed["items"]] == [authorization_id]
        body = api.get(f"/authorizations/{authorization_id}").json
        assert body["state"] == "active"
        assert body["request_id"] == request_id
        assert body["credential"]["client_id"].startswith("dp_")
        assert body["credential"]["has_secret"] is False
    with app.app_context():
        credential = db.session.scalar(
            db.select(Credential).filter_by(authorization_id=authorization_id)
        )
        assert credential.client_id == body["credential"]["client_id"]
    assert "secret_hash" not in str(body)

    assert api.get("/authorizations?state=revoked").json["total"] == 0
    assert api.get("/authorizations?definition=api_particulier").json["total"] == 1
    assert api.get("/authorizations?state=nope").status_code == 422


def test_authorizations_of_others_are_404(factory, validated, api_for):
    authorization_id = validated[0]
    outsider = factory.user(organizations=(factory.organization(),))
    api = api_for(outsider)
    assert api.get(f"/authorizations/{authorization_id}").status_code == 404
    assert api.get("/authorizations").json["total"] == 0
    other_instructor = factory.user(roles=(("instructor", "api_entreprise"),))
    response = api_for(other_instructor).post(
        f"/authorizations/{authorization_id}/revoke", {"reason": "Fin"}
    )
    assert response.status_code == 404


def test_instructor_revokes_an_authorization(app, validated, api_for):
    from datapass.lifecycle.models import Event
    from datapass.oauth.models import Credential
    from datapass.requests.models import AuthorizationRequest

    authorization_id, request_id, applicant, org, instructor = validated
    api = api_for(instructor, "instruct read_authorizations")
    missing = api.post(f"/authorizations/{authorization_id}/revoke", {"reason": " "})
    assert missing.status_code == 422
    assert missing.json["errors"][0]["field"] == "reason"
    response = api.post(f"/authorizations/{authorization_id}/revoke", {"reason": "Fin du projet"})
    assert response.status_code == 200, response.json
    assert response.json["state"] == "revoked"
    assert response.json["revoked_at"]
    assert response.json["credential"]["revoked_at"]
    with app.app_context():
        assert db.session.get(AuthorizationRequest, request_id).state == "revoked"
        names = {
            (e.name, e.via)
            for e in db.session.scalars(db.select(Event).filter_by(request_id=request_id))
        }
        assert {
            ("revoke_authorization", "api"),
            ("revoke", "api"),
            ("revoke_credential", "api"),
        } <= names
        credential = db.session.scalar(
            db.select(Credential).filter_by(authorization_id=authorization_id)
        )
        assert credential.revoked_at is not None
    again = api.post(f"/authorizations/{authorization_id}/revoke", {"reason": "Encore"})
    assert again.status_code == 409
    assert again.json["code"] == "state_conflict"


def test_revocation_needs_the_instructor_role_and_scope(validated, api_for):
    authorization_id, _, applicant, _, instructor = validated
    response = api_for(applicant).post(
        f"/authorizations/{authorization_id}/revoke", {"reason": "x"}
    )
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    response = api_for(instructor, "read_authorizations").post(
        f"/authorizations/{authorization_id}/revoke", {"reason": "x"}
    )
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_scope"
