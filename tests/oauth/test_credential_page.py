"""The credential on the authorization page: who sees it, who manages it, the secret once."""

from __future__ import annotations

from tests.oauth.conftest import secret_from


def test_members_see_the_client_id_never_the_secret(approve, factory, login_as):
    consumer = approve()
    colleague = factory.user(organizations=(consumer.organization_id,))
    url = f"/authorizations/{consumer.authorization_id}"
    for user in (consumer.applicant_id, colleague):
        page = login_as(user).get(url)
        assert page.status_code == 200
        assert consumer.client_id in page.text
        assert consumer.client_secret not in page.text
    # Only the applicant has the button.
    assert 'data-testid="renew-secret"' in login_as(consumer.applicant_id).get(url).text
    assert 'data-testid="renew-secret"' not in login_as(colleague).get(url).text


def test_only_the_applicant_renews_the_secret(approve, factory, login_as):
    consumer = approve()
    colleague = factory.user(organizations=(consumer.organization_id,))
    url = f"/authorizations/{consumer.authorization_id}/credential/secret"
    assert login_as(colleague).post(url).status_code == 403


def test_outsiders_get_404(approve, factory, login_as):
    consumer = approve()
    stranger = factory.user(organizations=(factory.organization(),))
    instructor = factory.user(roles=(("instructor", "api_particulier"),))
    url = f"/authorizations/{consumer.authorization_id}/credential/secret"
    assert login_as(stranger).post(url).status_code == 404
    # Staff see the authorization but neither the credential nor its actions.
    page = login_as(instructor).get(f"/authorizations/{consumer.authorization_id}")
    assert consumer.client_id not in page.text
    assert login_as(instructor).post(url).status_code == 404


def test_the_secret_is_shown_once(approve, login_as):
    consumer = approve()
    applicant = login_as(consumer.applicant_id)
    response = applicant.post(f"/authorizations/{consumer.authorization_id}/credential/secret")
    secret = secret_from(response)
    assert len(secret) >= 43  # 256 bits, base64url
    page = applicant.get(f"/authorizations/{consumer.authorization_id}")
    assert secret not in page.text
    assert "jamais réaffiché" in page.text


def test_the_secret_is_stored_as_a_keyed_hash(app, approve):
    import hashlib

    from datapass.extensions import db
    from datapass.oauth.models import Credential

    consumer = approve()
    with app.app_context():
        credential = db.session.scalar(
            db.select(Credential).where(Credential.client_id == consumer.client_id)
        )
        assert consumer.client_secret not in (credential.secret_hash or "")
        plain = hashlib.sha256(consumer.client_secret.encode()).hexdigest()
        assert credential.secret_hash != plain  # keyed: HMAC, not a bare digest
        assert len(credential.secret_hash) == 64


def test_the_secret_post_needs_a_csrf_token(make_app, approve):
    consumer = approve()
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with client.session_transaction() as session:  # signed in as Flask-Login would
        session["_user_id"] = str(consumer.applicant_id)
        session["_fresh"] = True
    response = client.post(f"/authorizations/{consumer.authorization_id}/credential/secret")
    assert response.status_code == 400


def test_a_no_longer_active_authorization_cannot_renew(app, approve, login_as):
    from tests.oauth.test_introspection import _end_authorization

    consumer = approve()
    _end_authorization(app, consumer.authorization_id, "deprecate")
    applicant = login_as(consumer.applicant_id)
    page = applicant.get(f"/authorizations/{consumer.authorization_id}")
    assert "n'est plus active" in page.text
    response = applicant.post(f"/authorizations/{consumer.authorization_id}/credential/secret")
    assert response.status_code == 409
