"""Approval issues the credential in the same transaction; a new approval rebinds it."""

from __future__ import annotations

import pytest

from tests.oauth.conftest import post
from tests.oauth.test_introspection import introspect
from tests.oauth.test_tokens import fetch, verify


def test_approval_issues_a_credential_with_the_approved_scopes(app, factory):
    from datapass.authorizations.models import Authorization
    from datapass.extensions import db
    from datapass.oauth.services import credential_for

    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org, definition_id="api_entreprise", state="validated")
    with app.app_context():
        authorization = db.session.scalar(db.select(Authorization).filter_by(request_id=request_id))
        credential = credential_for(authorization)
        assert credential.client_id.startswith("dp_")
        assert credential.scopes == authorization.scopes
        assert credential.definition_id == "api_entreprise"
        assert credential.secret_hash is None  # the applicant generates it, and sees it once


def test_a_failed_approval_leaves_no_credential(app, factory, monkeypatch):
    """Same transaction: if issuing the credential fails, nothing of the approval remains."""
    from datapass.accounts.models import User
    from datapass.extensions import db
    from datapass.lifecycle import services
    from datapass.oauth.models import Credential
    from datapass.requests.models import AuthorizationRequest

    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    instructor = factory.user(roles=(("instructor", "api_particulier"),))
    request_id = factory.request(applicant, org, state="submitted")

    def broken(authorization, user):
        raise RuntimeError("boom")

    monkeypatch.setattr("datapass.oauth.services.issue_credential", broken)
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        with pytest.raises(RuntimeError):
            services.approve_request(request_obj, db.session.get(User, instructor))
        db.session.rollback()
        assert db.session.get(AuthorizationRequest, request_id).state == "submitted"
        assert db.session.scalar(db.select(db.func.count(Credential.id))) == 0


def test_a_new_approval_moves_the_credential_and_its_scopes(live_server, app, approve, producer):
    """A reopened request validated again: same client_id and secret, the new scopes."""
    from datapass.accounts.models import User
    from datapass.authorizations.models import Authorization
    from datapass.extensions import db
    from datapass.oauth.services import credential_for, issue_credential
    from workflows.machines import AuthorizationFlow

    consumer = approve()
    auth = producer()
    old_token = fetch(live_server, consumer)["access_token"]
    with app.app_context():
        previous = db.session.get(Authorization, consumer.authorization_id)
        previous.state = AuthorizationFlow(previous.state).fire("deprecate")
        renewed = Authorization(
            request_id=previous.request_id,
            definition_id=previous.definition_id,
            organization_id=previous.organization_id,
            applicant_id=previous.applicant_id,
            data=previous.data,
            scopes=["cnaf_quotient_familial", "cnaf_rsa"],
            documents=[],
        )
        db.session.add(renewed)
        db.session.flush()
        issue_credential(renewed, db.session.get(User, consumer.applicant_id))
        db.session.commit()
        assert credential_for(renewed).client_id == consumer.client_id
        assert credential_for(previous) is None

    token = fetch(live_server, consumer)
    assert verify(live_server, token["access_token"]).claims["scope"] == (
        "cnaf_quotient_familial cnaf_rsa"
    )
    assert introspect(live_server, token["access_token"], auth).json()["active"] is True
    # Tokens issued under the obsolete authorization stop at once.
    assert introspect(live_server, old_token, auth).json() == {"active": False}
    response = post(
        live_server,
        "/oauth/token",
        {"grant_type": "client_credentials", "scope": "msa_quotient_familial"},
        (consumer.client_id, consumer.client_secret),
    )
    assert response.json()["error"] == "invalid_scope"
