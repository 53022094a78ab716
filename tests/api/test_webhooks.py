"""Webhook delivery attempts through API v1: developers of the webhook's API only."""

from __future__ import annotations

from datapass.extensions import db


def _webhook_with_attempts(app, definition_id: str, count: int) -> int:
    from datapass.notifications.models import Webhook, WebhookAttempt

    with app.app_context():
        hook = Webhook(
            definition_id=definition_id,
            url="https://producer.example.org/hook",
            events=["submit"],
            secret_encrypted="not-used-here",
        )
        hook.attempts = [
            WebhookAttempt(event="submit", status_code=500 if i == 0 else 200, success=i > 0)
            for i in range(count)
        ]
        db.session.add(hook)
        db.session.commit()
        return hook.id


def test_developer_lists_attempts_newest_first(app, factory, api_for):
    hook_id = _webhook_with_attempts(app, "api_particulier", 3)
    developer = factory.user(roles=(("developer", "api_particulier"),))
    api = api_for(developer, "manage_webhooks")
    page = api.get(f"/webhooks/{hook_id}/attempts?limit=2").json
    assert page["total"] == 3
    assert [a["success"] for a in page["items"]] == [True, True]
    rest = api.get(f"/webhooks/{hook_id}/attempts?cursor={page['next_cursor']}").json
    assert [(a["status_code"], a["success"]) for a in rest["items"]] == [(500, False)]


def test_attempts_of_other_apis_are_404_and_need_the_scope(app, factory, api_for):
    hook_id = _webhook_with_attempts(app, "api_particulier", 1)
    other = factory.user(roles=(("developer", "api_entreprise"),))
    assert api_for(other).get(f"/webhooks/{hook_id}/attempts").status_code == 404
    assert api_for(other).get("/webhooks/999999/attempts").status_code == 404
    developer = factory.user(roles=(("developer", "api_particulier"),))
    response = api_for(developer, "read_requests").get(f"/webhooks/{hook_id}/attempts")
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_scope"
