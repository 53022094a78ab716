"""Requests through API v1: the owner's rights, the same services as the web, problems."""

from __future__ import annotations

import pytest

from datapass.extensions import db


@pytest.fixture
def org_and_applicant(factory):
    org = factory.organization(name="Commune de Clamart")
    applicant = factory.user(organizations=(org,))
    return org, applicant


def siret_of(app, org_id: int) -> str:
    from datapass.accounts.models import Organization

    with app.app_context():
        return db.session.get(Organization, org_id).siret


def full_data(app, user_id: int, definition_id: str = "api_particulier") -> dict:
    from datapass.accounts.models import User
    from datapass.catalog import get_definition
    from datapass.demo import complete_request_data

    with app.app_context():
        return complete_request_data(get_definition(definition_id), db.session.get(User, user_id))


def events_of(app, request_id: int):
    from datapass.lifecycle.models import Event

    with app.app_context():
        return [
            (e.name, e.via)
            for e in db.session.scalars(db.select(Event).filter_by(request_id=request_id))
        ]


def test_definitions_list_and_detail_with_data_keys(factory, api_for):
    api = api_for(factory.user(), "read_requests")
    listed = api.get("/definitions").json
    assert "api_particulier" in {d["id"] for d in listed["items"]}
    detail = api.get("/definitions/api_particulier").json
    assert "intitule" in detail["data_keys"] and "scopes" in detail["data_keys"]
    assert detail["blocks"][0] == "basic_infos"
    assert api.get("/definitions/nope").status_code == 404


def test_create_a_draft_with_data_records_an_api_event(app, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    api = api_for(applicant)
    response = api.post(
        "/requests",
        {
            "definition": "api_particulier",
            "siret": siret_of(app, org),
            "data": {"intitule": "Cantine", "duree_conservation_donnees_caractere_personnel": 12},
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/requests/{body['id']}")
    assert body["state"] == "draft"
    assert body["data"] == {
        "intitule": "Cantine",
        "duree_conservation_donnees_caractere_personnel": 12,
    }
    assert body["organization"]["name"] == "Commune de Clamart"
    assert events_of(app, body["id"]) == [("create", "api")]


def test_unknown_data_keys_are_rejected_with_the_allowed_ones(app, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    api = api_for(applicant)
    response = api.post(
        "/requests",
        {"definition": "api_particulier", "siret": siret_of(app, org), "data": {"foo": "x"}},
    )
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "data.foo", "message": "Clé inconnue pour cette API."}
    ]
    assert "intitule" in response.json["allowed_keys"]
    assert api.get("/requests").json["total"] == 0  # nothing half-written


def test_invalid_values_name_their_field(app, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    api = api_for(applicant)
    response = api.post(
        "/requests",
        {
            "definition": "api_particulier",
            "siret": siret_of(app, org),
            "data": {
                "duree_conservation_donnees_caractere_personnel": "douze",
                "scopes": ["not_a_scope"],
                "intitule": {"nested": True},
            },
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json["errors"]}
    assert fields == {
        "data.duree_conservation_donnees_caractere_personnel",
        "data.scopes",
        "data.intitule",
    }


def test_create_refuses_bad_body_fields(app, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    api = api_for(applicant)
    response = api.post("/requests", {"definition": "nope", "siret": "123"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {"definition", "siret"}
    # A SIRET is checked (format and checksum) before it is looked up, with a French reason.
    wrong_checksum = "21920023500015"
    response = api.post("/requests", {"definition": "api_particulier", "siret": wrong_checksum})
    assert response.json["errors"] == [
        {
            "field": "siret",
            "message": "Ce numéro SIRET est invalide : vérifiez les chiffres saisis.",
        }
    ]
    response = api.get(f"/requests?siret={wrong_checksum}")
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "query.siret"
    response = api.post("/requests", {"definition": "api_particulier", "extra": 1})
    assert response.json["errors"] == [{"field": "extra", "message": "Champ inconnu."}]
    response = api.call(
        "POST", "/requests", data="not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["code"] == "invalid_json"


def test_a_client_never_acts_beyond_its_owner(app, factory, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    outsider = factory.user(organizations=(factory.organization(),))
    api = api_for(outsider)
    response = api.post("/requests", {"definition": "api_particulier", "siret": siret_of(app, org)})
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    # Nor for a member, as applicant, when the owner is not a member itself.
    user_email = _email(app, applicant)
    response = api.post(
        "/requests",
        {
            "definition": "api_particulier",
            "siret": siret_of(app, org),
            "applicant_email": user_email,
        },
    )
    assert response.status_code == 403
    request_id = factory.request(applicant, org)
    assert api.get(f"/requests/{request_id}").status_code == 404
    assert api.get(f"/requests/{request_id}/events").status_code == 404
    assert api.patch(f"/requests/{request_id}", {"data": {}}).status_code == 404
    assert api.get("/requests").json["total"] == 0


def _email(app, user_id: int) -> str:
    from datapass.accounts.models import User

    with app.app_context():
        return db.session.get(User, user_id).email


def test_a_member_prepares_a_draft_for_a_colleague(app, factory, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    colleague = factory.user(organizations=(org,))
    api = api_for(colleague)
    response = api.post(
        "/requests",
        {
            "definition": "api_particulier",
            "siret": siret_of(app, org),
            "applicant_email": _email(app, applicant).upper(),
        },
    )
    assert response.status_code == 201
    assert response.json["applicant"]["email"] == _email(app, applicant)
    # The draft is the applicant's: the colleague sees it but does not edit it.
    request_id = response.json["id"]
    response = api.patch(f"/requests/{request_id}", {"data": {"intitule": "X"}})
    assert response.status_code == 403


def test_list_filters_and_cursor_pagination(app, factory, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    other_org = factory.organization()
    factory.user(organizations=(other_org,))
    ids = [factory.request(applicant, org) for _ in range(3)]
    submitted = factory.request(applicant, org, state="submitted")
    api = api_for(applicant, "read_requests")

    first = api.get("/requests?limit=2").json
    assert first["total"] == 4
    assert [r["id"] for r in first["items"]] == [submitted, ids[2]]
    second = api.get(f"/requests?limit=2&cursor={first['next_cursor']}").json
    assert [r["id"] for r in second["items"]] == [ids[1], ids[0]]
    assert second["next_cursor"] is None and second["total"] == 4

    assert [r["id"] for r in api.get("/requests?state=submitted").json["items"]] == [submitted]
    assert api.get(f"/requests?siret={siret_of(app, org)}").json["total"] == 4
    assert api.get(f"/requests?siret={siret_of(app, other_org)}").json["total"] == 0
    assert api.get("/requests?updated_since=2999-01-01T00:00:00Z").json["total"] == 0
    assert api.get("/requests?updated_since=2000-01-01").json["total"] == 4
    assert api.get("/requests?definition=api_entreprise").json["total"] == 0

    response = api.get("/requests?state=nope&limit=0&siret=12")
    assert response.status_code == 422
    fields = {e["field"] for e in response.json["errors"]}
    assert fields == {"query.state", "query.siret"}
    assert api.get("/requests?limit=0").json["errors"][0]["field"] == "query.limit"
    assert api.get("/requests?cursor=%%%").json["errors"][0]["field"] == "query.cursor"
    assert api.get("/requests?updated_since=yesterday").status_code == 422


def test_staff_see_the_requests_of_their_definitions(factory, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    mine = factory.request(applicant, org, state="submitted")
    factory.request(applicant, org, definition_id="api_entreprise", state="submitted")
    reporter = factory.user(roles=(("reporter", "api_particulier"),))
    api = api_for(reporter, "read_requests")
    assert [r["id"] for r in api.get("/requests").json["items"]] == [mine]
    assert api.get(f"/requests/{mine}").json["state"] == "submitted"


def test_patch_merges_data_and_conflicts_outside_drafts(app, factory, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    request_id = factory.request(applicant, org, complete=False)
    api = api_for(applicant)
    response = api.patch(f"/requests/{request_id}", {"data": {"intitule": "Cantine"}})
    assert response.status_code == 200
    version = response.json["lock_version"]
    response = api.patch(
        f"/requests/{request_id}",
        {"data": {"description": "Tarifs sociaux"}, "lock_version": version},
    )
    assert response.json["data"] == {"intitule": "Cantine", "description": "Tarifs sociaux"}
    stale = api.patch(
        f"/requests/{request_id}", {"data": {"intitule": "Y"}, "lock_version": version}
    )
    assert stale.status_code == 409
    cleared = api.patch(f"/requests/{request_id}", {"data": {"intitule": None}})
    assert cleared.status_code == 422
    assert cleared.json["errors"][0]["field"] == "data.intitule"

    submitted = factory.request(applicant, org, state="submitted")
    response = api.patch(f"/requests/{submitted}", {"data": {"intitule": "Z"}})
    assert response.status_code == 409
    assert response.json["code"] == "state_conflict"


def test_submit_lists_what_is_missing_then_submits(app, factory, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    api = api_for(applicant)
    request_id = api.post(
        "/requests", {"definition": "api_particulier", "siret": siret_of(app, org)}
    ).json["id"]
    response = api.post(f"/requests/{request_id}/submit", {"terms_accepted": True})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json["errors"]}
    assert {"data.intitule", "data.scopes", "dpo_informed"} <= fields

    api.patch(f"/requests/{request_id}", {"data": full_data(app, applicant)})
    response = api.post(
        f"/requests/{request_id}/submit", {"terms_accepted": True, "dpo_informed": True}
    )
    assert response.status_code == 200, response.json
    assert response.json["state"] == "submitted"
    again = api.post(
        f"/requests/{request_id}/submit", {"terms_accepted": True, "dpo_informed": True}
    )
    assert again.status_code == 409
    events = api.get(f"/requests/{request_id}/events").json["items"]
    assert [(e["name"], e["via"]) for e in events] == [("create", "api"), ("submit", "api")]


def test_submit_needs_the_applicant_and_the_scope(factory, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    request_id = factory.request(applicant, org)
    colleague = factory.user(organizations=(org,))
    body = {"terms_accepted": True, "dpo_informed": True}
    assert api_for(colleague).post(f"/requests/{request_id}/submit", body).status_code == 403
    reader = api_for(applicant, "read_requests")
    response = reader.post(f"/requests/{request_id}/submit", body)
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_scope"


@pytest.fixture
def instructor(factory):
    return factory.user(roles=(("instructor", "api_particulier"),))


def test_instructor_decisions(app, factory, org_and_applicant, instructor, api_for):
    org, applicant = org_and_applicant
    api = api_for(instructor, "read_requests instruct")
    first = factory.request(applicant, org, state="submitted")
    response = api.post(f"/requests/{first}/decisions", {"decision": "approve", "message": "OK"})
    assert response.status_code == 200, response.json
    assert response.json["request"]["state"] == "validated"
    assert response.json["authorization_id"]
    assert ("approve", "api") in events_of(app, first)
    assert ("issue_authorization", "api") in events_of(app, first)

    second = factory.request(applicant, org, state="submitted")
    response = api.post(f"/requests/{second}/decisions", {"decision": "refuse"})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "reason"
    response = api.post(
        f"/requests/{second}/decisions", {"decision": "request_changes", "reason": "Précisez."}
    )
    assert response.json["request"]["state"] == "changes_requested"
    response = api.post(f"/requests/{second}/decisions", {"decision": "refuse", "reason": "Non"})
    assert response.status_code == 409

    third = factory.request(applicant, org, state="submitted")
    response = api.post(
        f"/requests/{third}/decisions",
        {"decision": "refuse", "reason": "Non", "lock_version": 1},
    )
    assert response.status_code == 409  # the request moved since version 1
    assert api.post(f"/requests/{third}/decisions", {"decision": "maybe"}).status_code == 422


def test_decisions_need_the_instructor_role(factory, org_and_applicant, api_for):
    org, applicant = org_and_applicant
    request_id = factory.request(applicant, org, state="submitted")
    reporter = factory.user(roles=(("reporter", "api_particulier"),))
    response = api_for(reporter).post(f"/requests/{request_id}/decisions", {"decision": "approve"})
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    elsewhere = factory.user(roles=(("instructor", "api_entreprise"),))
    response = api_for(elsewhere).post(f"/requests/{request_id}/decisions", {"decision": "approve"})
    assert response.status_code == 404
    # The applicant cannot approve its own request, whatever the client's scopes.
    response = api_for(applicant).post(f"/requests/{request_id}/decisions", {"decision": "approve"})
    assert response.status_code == 403
