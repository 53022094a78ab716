"""Producer webhooks end to end: portal, ping, signed deliveries to a real HTTP server."""

from __future__ import annotations

import re

from sqlalchemy import select

from datapass.accounts.models import User
from datapass.extensions import db
from datapass.notifications import delivery
from datapass.notifications.models import Webhook, WebhookAttempt
from tests.notifications.servers import verify_signatures, wait_for


def _developer_client(stack, definition_id):
    developer = stack.factory.user(roles=(("developer", definition_id),))
    client = stack.app.test_client()
    with stack.app.app_context():
        email = db.session.get(User, developer).email
    assert client.post("/login", data={"email": email}).status_code == 302
    return client, email


def _reference(stack, request_id):
    with stack.app.app_context():
        return delivery.producer_reference(request_id)


def _create(client, definition_id, url, events):
    response = client.post(
        "/producers/webhooks", data={"definition_id": definition_id, "url": url, "events": events}
    )
    page = response.get_data(as_text=True)
    secret = re.search(r'data-testid="webhook-secret">([^<]+)<', page)
    return response, page, secret.group(1) if secret else None


def test_a_webhook_is_pinged_then_receives_signed_events(stack):
    definition_id = "api_entreprise"
    client, _ = _developer_client(stack, definition_id)
    response, page, secret = _create(
        client, definition_id, stack.receiver.url, ["submit", "approve"]
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert "le webhook est activé" in page
    ping = stack.receiver.events("ping")[-1]
    assert verify_signatures(secret, ping["headers"], ping["body"])
    with stack.app.app_context():
        hook = db.session.scalars(select(Webhook).filter_by(definition_id=definition_id)).one()
        assert hook.enabled
        assert secret not in hook.secret_encrypted  # stored encrypted, never in clear

    org = stack.factory.organization()
    applicant = stack.factory.user(organizations=(org,))
    stack.receiver.reply = b'{"token_id": "ref-producteur-42"}'  # DataPass compatibility
    try:
        request_id = stack.factory.request(
            applicant, org, definition_id=definition_id, state="validated"
        )
        wait_for(lambda: _reference(stack, request_id), what="the producer's token_id")
    finally:
        stack.receiver.reply = b'{"ok": true}'
    assert _reference(stack, request_id) == "ref-producteur-42"
    # ...and shown to the applicant on the request page.
    page = stack.app.test_client()
    with stack.app.app_context():
        from datapass.accounts.models import User

        page.post("/login", data={"email": db.session.get(User, applicant).email})
    shown = page.get(f"/requests/{request_id}").text
    assert 'data-testid="producer-reference"' in shown and "ref-producteur-42" in shown

    def received(name):
        return [r for r in stack.receiver.events(name) if r["json"]["data"]["id"] == request_id]

    wait_for(lambda: received("submit") and received("approve"), what="both webhooks")
    approve = received("approve")[0]
    assert verify_signatures(secret, approve["headers"], approve["body"])
    assert not verify_signatures(secret, approve["headers"], approve["body"] + b" ")
    assert approve["headers"]["X-Hub-Signature-256"].startswith("sha256=")
    assert approve["json"]["data"]["authorization"]["state"] == "active"
    assert approve["json"]["data"]["organization"]["siret"]
    assert received("submit")[0]["headers"]["webhook-id"] != approve["headers"]["webhook-id"]

    page = client.get("/producers/webhooks").get_data(as_text=True)
    assert page.count('data-testid="webhook-attempt"') == 3  # ping, submit, approve


def test_a_failing_ping_leaves_the_webhook_disabled_and_failures_disable_it(stack):
    definition_id = "api_impot_particulier_sandbox"
    client, developer_email = _developer_client(stack, definition_id)
    stack.receiver.status = 500
    try:
        response, page, _ = _create(client, definition_id, stack.receiver.url, ["submit"])
        assert "le webhook reste désactivé" in page
        with stack.app.app_context():
            hook = db.session.scalars(select(Webhook).filter_by(definition_id=definition_id)).one()
            assert not hook.enabled
        stack.receiver.status = 200
        client.post(
            f"/producers/webhooks/{hook.id}",
            data={"definition_id": definition_id, "url": stack.receiver.url, "events": ["submit"]},
        )
        stack.receiver.status = 503
        org = stack.factory.organization()
        applicant = stack.factory.user(organizations=(org,))
        for _ in range(2):  # 2 events x 3 attempts: the 5th consecutive failure disables it
            stack.factory.request(applicant, org, definition_id=definition_id, state="submitted")

        def disabled():
            with stack.app.app_context():
                return not db.session.get(Webhook, hook.id).enabled

        wait_for(disabled, timeout=30, what="the webhook to be disabled")
        wait_for(lambda: stack.smtp.to(developer_email), what="the owners' email")
        assert "Webhook désactivé" in stack.smtp.to(developer_email)[0]["Subject"]
        with stack.app.app_context():
            attempts = db.session.scalars(
                select(WebhookAttempt).filter_by(webhook_id=hook.id, event="submit")
            ).all()
        assert len(attempts) == 5
        assert {a.status_code for a in attempts} == {503}
    finally:
        stack.receiver.status = 200


def test_a_webhook_form_with_errors_is_refused_in_french(stack):
    client, _ = _developer_client(stack, "api_particulier")
    response, page, secret = _create(client, "api_particulier", "ftp://example.org", [])
    assert response.status_code == 400
    assert secret is None
    assert "adresse doit commencer par https://" in page
    assert "Choisissez au moins un événement." in page
    other, _ = _developer_client(stack, "api_entreprise")
    assert (
        other.post(
            "/producers/webhooks",
            data={
                "definition_id": "api_particulier",
                "url": stack.receiver.url,
                "events": ["submit"],
            },
        ).status_code
        == 400
    )
