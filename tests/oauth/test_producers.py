"""The producer portal: who sees what (a matrix), as a page and as JSON; never a secret."""

from __future__ import annotations

import pytest

from tests.oauth.test_tokens import fetch


@pytest.fixture
def two_apis(approve):
    """An authorization of API Particulier and one of API Entreprise."""
    return approve("api_particulier"), approve("api_entreprise")


def test_a_developer_sees_the_authorizations_of_its_api_only(two_apis, factory, login_as):
    particulier, entreprise = two_apis
    developer = factory.user(roles=(("developer", "api_particulier"),))
    portal = login_as(developer)

    page = portal.get("/producers")
    assert page.status_code == 200
    assert particulier.client_id in page.text
    assert entreprise.client_id not in page.text
    assert particulier.client_secret not in page.text

    body = portal.get("/producers/authorizations.json").json
    assert [a["id"] for a in body["authorizations"]] == [particulier.authorization_id]
    item = body["authorizations"][0]
    assert item["client_id"] == particulier.client_id
    assert item["state"] == "active"
    assert item["scopes"] == ["cnaf_quotient_familial", "msa_quotient_familial"]
    assert item["organization"]["siret"]
    assert item["valid_from"] and item["valid_until"] is None
    assert item["last_used_at"] is None
    assert particulier.client_secret not in portal.get("/producers/authorizations.json").text
    assert "secret" not in str(body)
    assert portal.get("/producers/authorizations.json?definition=api_entreprise").status_code == 404


def test_last_use_shows_in_the_portal(live_server, two_apis, factory, login_as):
    particulier, _ = two_apis
    fetch(live_server, particulier)
    developer = factory.user(roles=(("developer", "api_particulier"),))
    body = login_as(developer).get("/producers/authorizations.json").json
    assert body["authorizations"][0]["last_used_at"]


@pytest.mark.parametrize("who", ["applicant", "instructor", "manager", "reporter", "nobody"])
def test_anyone_but_a_developer_gets_404(two_apis, factory, login_as, who):
    particulier, _ = two_apis
    if who == "applicant":
        user = particulier.applicant_id
    elif who == "nobody":
        user = factory.user()
    else:
        user = factory.user(roles=((who, "api_particulier"),))
    portal = login_as(user)
    assert portal.get("/producers").status_code == 404
    assert portal.get("/producers/authorizations.json").status_code == 404
    assert portal.post("/producers/api_particulier/credentials").status_code == 404


def test_signed_out_gets_404(client):
    assert client.get("/producers").status_code == 404
    assert client.get("/producers/authorizations.json").status_code == 404


def test_a_developer_cannot_create_credentials_for_another_api(factory, login_as):
    developer = factory.user(roles=(("developer", "api_particulier"),))
    portal = login_as(developer)
    assert portal.post("/producers/api_entreprise/credentials").status_code == 404
    assert portal.post("/producers/unknown/credentials").status_code == 404


def test_a_developer_cannot_revoke_credentials_of_another_api(app, factory, login_as, producer):
    from datapass.extensions import db
    from datapass.oauth.models import Credential

    client_id, _ = producer("api_entreprise")
    with app.app_context():
        credential_id = db.session.scalar(
            db.select(Credential.id).where(Credential.client_id == client_id)
        )
    developer = factory.user(roles=(("developer", "api_particulier"),))
    response = login_as(developer).post(f"/producers/credentials/{credential_id}/revoke")
    assert response.status_code == 404


def test_an_admin_sees_every_api(two_apis, factory, login_as):
    admin = factory.user(admin=True)
    body = login_as(admin).get("/producers/authorizations.json").json
    ids = {a["id"] for a in body["authorizations"]}
    assert ids == {two_apis[0].authorization_id, two_apis[1].authorization_id}


def test_the_json_answers_a_producer_credential(app, two_apis, producer):
    client_id, secret = producer("api_entreprise")
    client = app.test_client()
    body = client.get("/producers/authorizations.json", auth=(client_id, secret)).json
    assert [a["id"] for a in body["authorizations"]] == [two_apis[1].authorization_id]
    response = client.get("/producers/authorizations.json", auth=(client_id, "dps_wrong"))
    assert response.status_code == 401
    consumer = two_apis[1]
    response = client.get(
        "/producers/authorizations.json", auth=(consumer.client_id, consumer.client_secret)
    )
    assert response.status_code == 401
