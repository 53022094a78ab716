"""Reopening a validated request, through the pages, with its credential checked at the OAuth
endpoints: the authorization stays active meanwhile, a validation moves the credential to the
new scopes, a refusal or a cancellation restores what was validated."""

from __future__ import annotations

from datapass.lifecycle.models import EVENT_LABELS

GRANTED = ["cnaf_quotient_familial", "msa_quotient_familial"]


def test_a_reopening_validated_with_new_scopes_changes_what_new_tokens_carry(world):
    request_id = world.validated()
    [(first_id, _, scopes)] = world.authorizations(request_id)
    assert scopes == GRANTED
    client_id, secret = world.credential(first_id)
    old_token = world.token(client_id, secret).json["access_token"]

    response = world.as_applicant.post(f"/requests/{request_id}/reopen")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{request_id}/summary")
    assert world.state(request_id) == "draft"
    # Meanwhile the authorization and its credential keep working.
    assert world.authorizations(request_id) == [(first_id, "active", GRANTED)]
    assert world.introspect(old_token)["active"] is True
    assert world.token(client_id, secret).status_code == 200
    page = world.as_applicant.get(f"/requests/{request_id}")
    assert 'data-testid="reopening"' in page.text
    assert "Aucune modification pour l'instant" in page.text

    # A reopening cannot be submitted without a change.
    response = world.submit(request_id)
    assert response.status_code == 409
    assert "une réouverture ne peut être soumise sans aucune modification" in response.text
    assert world.state(request_id) == "draft"

    new_scopes = ["cnaf_quotient_familial", "cnaf_rsa"]
    assert world.choose_scopes(request_id, new_scopes).status_code == 302
    assert world.submit(request_id).status_code == 302
    assert world.state(request_id) == "submitted"
    submit = world.last_event(request_id, "submit")
    assert submit.changes["scopes"] == [GRANTED, ["cnaf_quotient_familial", "cnaf_rsa"]]
    review = world.as_instructor.get(f"/instruction/requests/{request_id}")
    assert 'data-testid="changes"' in review.text and "Réouverture d'une demande" in review.text

    assert world.decide(request_id, "approve", "Nouvelles données accordées.").status_code == 302
    assert world.state(request_id) == "validated"
    [first, second] = world.authorizations(request_id)
    assert first == (first_id, "obsolete", GRANTED)
    assert second[1:] == ("active", ["cnaf_quotient_familial", "cnaf_rsa"])
    # Same client_id and secret; the old token stops, new ones carry the new scopes.
    assert world.introspect(old_token) == {"active": False}
    fresh = world.token(client_id, secret)
    assert fresh.status_code == 200
    assert fresh.json["scope"] == "cnaf_quotient_familial cnaf_rsa"
    assert world.introspect(fresh.json["access_token"])["authorization_id"] == second[0]
    refused = world.token(client_id, secret, scope="msa_quotient_familial")
    assert refused.json["error"] == "invalid_scope"
    events = world.events(request_id)
    assert events[events.index("reopen") :] == [
        "reopen",
        "submit",
        "approve",
        "deprecate_authorization",
        "issue_authorization",
        "issue_credential",
    ]


def test_refusing_a_reopening_restores_the_validated_data_and_keeps_the_authorization(world):
    request_id = world.validated()
    [(authorization_id, _, _)] = world.authorizations(request_id)
    client_id, secret = world.credential(authorization_id)
    before = world.request(request_id)
    world.as_applicant.post(f"/requests/{request_id}/reopen")
    world.choose_scopes(request_id, ["cnaf_rsa"])
    world.submit(request_id)
    assert world.request(request_id).data["scopes"] == ["cnaf_rsa"]

    # A refusal needs a reason: nothing moves without one.
    world.decide(request_id, "refuse", "   ")
    assert world.state(request_id) == "submitted"

    assert world.decide(request_id, "refuse", "Le RSA n'est pas justifié.").status_code == 302
    after = world.request(request_id)
    assert after.state == "validated"
    assert after.data == before.data
    assert after.submitted_data == before.submitted_data
    assert world.authorizations(request_id) == [(authorization_id, "active", GRANTED)]
    assert world.token(client_id, secret).json["scope"] == " ".join(GRANTED)
    event = world.last_event(request_id, "refuse_reopening")
    assert (event.from_state, event.to_state, event.reason) == (
        "submitted",
        "validated",
        "Le RSA n'est pas justifié.",
    )
    page = world.as_applicant.get(f"/requests/{request_id}")
    assert EVENT_LABELS["refuse_reopening"] in page.text
    assert "Le RSA n&#39;est pas justifié." in page.text
    # It can be reopened again afterwards.
    assert world.as_applicant.post(f"/requests/{request_id}/reopen").status_code == 302


def test_applicant_or_instructor_cancel_a_reopening_with_a_reason(world):
    request_id = world.validated()
    original = world.request(request_id).data
    world.as_applicant.post(f"/requests/{request_id}/reopen")
    world.choose_scopes(request_id, ["cnaf_aah"])

    response = world.as_applicant.post(f"/requests/{request_id}/reopening/cancel", data={})
    assert response.status_code == 302
    assert world.state(request_id) == "draft"  # no reason, no cancellation
    world.as_applicant.post(
        f"/requests/{request_id}/reopening/cancel", data={"reason": "Finalement inutile."}
    )
    assert world.state(request_id) == "validated"
    assert world.request(request_id).data == original
    assert world.last_event(request_id, "cancel_reopening").reason == "Finalement inutile."

    world.as_applicant.post(f"/requests/{request_id}/reopen")
    world.choose_scopes(request_id, ["cnaf_aah"])
    world.submit(request_id)
    response = world.as_instructor.post(
        f"/requests/{request_id}/reopening/cancel", data={"reason": "Demande en doublon."}
    )
    assert response.headers["Location"].endswith(f"/instruction/requests/{request_id}")
    assert world.state(request_id) == "validated"
    assert world.request(request_id).data == original
    assert [a[1] for a in world.authorizations(request_id)] == ["active"]


def test_who_may_reopen_and_what_a_reopening_blocks(world):
    request_id = world.validated()
    colleague = world.client(world.colleague)
    assert colleague.post(f"/requests/{request_id}/reopen").status_code == 403
    assert world.as_instructor.post(f"/requests/{request_id}/reopen").status_code == 404
    assert world.state(request_id) == "validated"

    world.as_applicant.post(f"/requests/{request_id}/reopen")
    # Reopening twice, archiving a reopening, cancelling with no reopening: refused.
    assert world.as_applicant.post(f"/requests/{request_id}/reopen").status_code == 409
    response = world.as_applicant.post(f"/requests/{request_id}/archive")
    assert response.status_code == 409
    assert "réouverture est en cours" in response.text
    assert world.state(request_id) == "draft"

    other = world.factory.request(world.applicant, world.org, state="submitted")
    response = world.as_instructor.post(f"/requests/{other}/reopening/cancel", data={"reason": "x"})
    assert response.status_code == 409
    assert world.state(other) == "submitted"


def test_a_definition_may_forbid_reopening(world, app):
    from datapass.catalog import EXTENSION_KEY
    from workflows.loader import Features

    request_id = world.validated()
    definitions = app.extensions[EXTENSION_KEY]
    definitions["api_particulier"] = definitions["api_particulier"].model_copy(
        update={"features": Features(reopening=False)}
    )
    assert 'data-testid="reopen"' not in world.as_applicant.get(f"/requests/{request_id}").text
    response = world.as_applicant.post(f"/requests/{request_id}/reopen")
    assert response.status_code == 409
    assert "ne permet pas de rouvrir" in response.text
    assert world.state(request_id) == "validated"
