"""The access matrix of every route: app.url_map × every role × every object.

Generated from the route table: a route missing from EXPECTED fails, so a new route cannot
escape review. Each entry gives, per object (own = organisation A on definition X, other_org =
B on X, other_def = A on Y; routes without parameters: one group), the answer class for each
role in ROLES' order:

    anonymous applicant_a applicant_b reporter_x instructor_x manager_x instructor_y
    developer_x admin

Classes: ok (2xx, a redirect elsewhere than the sign-in, or an allowed call refused on its
content: 400/409/422), login (redirect to the sign-in page), 401 (the API and OAuth endpoints
take no session cookie), 403 (visible but not yours to do), 404 (not visible, or absent in this
mode: development-only and OIDC routes), 405.

Calls are made with empty bodies, in the order of tests.security.matrix.routes (the removals,
then the sign-out, last). A removal done by a role leaves the next roles a 404 on the same
object: in admin.remove_role, developers.revoke_client, instruction_tools.delete_template and
webhooks.delete, the admin's 404s on X objects follow the manager's or developer's removal.
The API's own role matrix, with bearer tokens, is tests/api/test_matrix.py.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.security.matrix import observe, routes
from tests.security.world import OBJECTS, ROLES, build_world

EXPECTED = {
    ("accounts.login", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("accounts.login", "POST"): ("ok ok ok ok ok ok ok ok ok",),
    ("accounts.logout_callback", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("accounts.oidc_callback", "GET"): ("404 404 404 404 404 404 404 404 404",),
    ("accounts.oidc_login", "GET"): ("404 404 404 404 404 404 404 404 404",),
    ("accounts.organizations", "GET"): ("login ok ok ok ok ok ok ok ok",),
    ("accounts.organizations", "POST"): ("login ok ok ok ok ok ok ok ok",),
    ("accounts.switch_organization", "POST"): ("login ok ok ok ok ok ok ok ok",),
    ("admin.audit", "GET"): ("login 403 403 403 403 403 403 403 ok",),
    ("admin.impersonate", "POST"): (
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
    ),
    ("admin.rights_index", "GET"): ("login 403 403 403 403 ok 403 403 ok",),
    ("admin.rights_index", "POST"): ("login 403 403 403 403 ok 403 403 ok",),
    ("admin.stop_impersonation", "POST"): ("login 403 403 403 403 403 403 403 403",),
    ("admin.unban", "POST"): (
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
    ),
    ("admin.user", "GET"): (
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
    ),
    ("admin.users", "GET"): ("login 403 403 403 403 403 403 403 ok",),
    ("admin.verify_membership", "POST"): (
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
    ),
    ("api.create_request", "POST"): ("401 401 401 401 401 401 401 401 401",),
    ("api.decide", "POST"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("api.definition", "GET"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("api.definitions", "GET"): ("401 401 401 401 401 401 401 401 401",),
    ("api.get_authorization", "GET"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("api.get_request", "GET"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("api.list_authorizations", "GET"): ("401 401 401 401 401 401 401 401 401",),
    ("api.list_requests", "GET"): ("401 401 401 401 401 401 401 401 401",),
    ("api.me", "GET"): ("401 401 401 401 401 401 401 401 401",),
    ("api.not_found", "DELETE"): (
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
    ),
    ("api.not_found", "GET"): (
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
    ),
    ("api.not_found", "PATCH"): (
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
    ),
    ("api.not_found", "POST"): (
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
    ),
    ("api.not_found", "PUT"): (
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
    ),
    ("api.openapi_json", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("api.request_events", "GET"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("api.revoke", "POST"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("api.submit_request", "POST"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("api.update_request", "PATCH"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("api.webhook_attempts", "GET"): (
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
        "401 401 401 401 401 401 401 401 401",
    ),
    ("authorizations.show", "GET"): (
        "login ok 404 ok ok ok 404 404 ok",
        "login 404 ok ok ok ok 404 404 ok",
        "login ok 404 404 404 404 ok 404 ok",
    ),
    ("catalog.index", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("catalog.show", "GET"): (
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
    ),
    ("credentials.renew_secret", "POST"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("developers.create_client", "POST"): ("login 404 404 404 404 404 404 ok ok",),
    ("developers.docs", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("developers.index", "GET"): ("login 404 404 404 404 404 404 ok ok",),
    ("dsfr", "GET"): (
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
    ),
    ("instruction.decide", "POST"): (
        "login 404 404 403 ok ok 404 404 ok",
        "login 404 404 403 ok ok 404 404 ok",
        "login 404 404 404 404 404 ok 404 ok",
    ),
    ("instruction.export_queue", "GET"): ("login 404 404 ok ok ok ok 404 ok",),
    ("instruction.queue", "GET"): ("login 404 404 ok ok ok ok 404 ok",),
    ("instruction.show", "GET"): (
        "login 404 404 ok ok ok 404 404 ok",
        "login 404 404 ok ok ok 404 404 ok",
        "login 404 404 404 404 404 ok 404 ok",
    ),
    ("instruction_tools.add_note", "POST"): (
        "login 404 404 403 ok ok 404 404 ok",
        "login 404 404 403 ok ok 404 404 ok",
        "login 404 404 404 404 404 ok 404 ok",
    ),
    ("instruction_tools.edit_template", "GET"): (
        "login 404 404 404 404 ok 404 404 ok",
        "login 404 404 404 404 ok 404 404 ok",
        "login 404 404 404 404 404 404 404 ok",
    ),
    ("instruction_tools.edit_template", "POST"): (
        "login 404 404 404 404 ok 404 404 ok",
        "login 404 404 404 404 ok 404 404 ok",
        "login 404 404 404 404 404 404 404 ok",
    ),
    ("instruction_tools.templates", "GET"): (
        "login 404 404 404 404 ok 404 404 ok",
        "login 404 404 404 404 ok 404 404 ok",
        "login 404 404 404 404 404 404 404 ok",
    ),
    ("instruction_tools.templates", "POST"): (
        "login 404 404 404 404 ok 404 404 ok",
        "login 404 404 404 404 ok 404 404 ok",
        "login 404 404 404 404 404 404 404 ok",
    ),
    ("instruction_tools.templates_index", "GET"): ("login 404 404 404 404 ok 404 404 ok",),
    ("lifecycle.cancel_reopening", "POST"): (
        "login ok 404 ok ok ok 404 404 ok",
        "login 404 ok ok ok ok 404 404 ok",
        "login ok 404 404 404 404 ok 404 ok",
    ),
    ("lifecycle.copy", "POST"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("lifecycle.reopen", "POST"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("lifecycle.start_production", "POST"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("lifecycle.transfer_request", "GET"): (
        "login ok 404 403 403 403 404 404 ok",
        "login 404 ok 403 403 403 404 404 ok",
        "login ok 404 404 404 404 403 404 ok",
    ),
    ("lifecycle.transfer_request", "POST"): (
        "login ok 404 403 403 403 404 404 ok",
        "login 404 ok 403 403 403 404 404 ok",
        "login ok 404 404 404 404 403 404 ok",
    ),
    ("notifications.failed_deliveries", "GET"): ("404 404 404 404 404 404 404 404 ok",),
    ("notifications.mailbox", "GET"): ("404 404 404 404 404 404 404 404 404",),
    ("notifications.mailbox_message", "GET"): (
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
        "404 404 404 404 404 404 404 404 404",
    ),
    ("notifications.preferences", "GET"): ("404 404 404 404 ok ok ok 404 ok",),
    ("notifications.preferences", "POST"): ("404 404 404 404 ok ok ok 404 ok",),
    ("notifications.replay_deliveries", "POST"): ("404 404 404 404 404 404 404 404 ok",),
    ("notifications.unsubscribe", "GET"): (
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
    ),
    ("notifications.unsubscribe", "POST"): (
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
    ),
    ("oauth.introspect", "POST"): ("401 401 401 401 401 401 401 401 401",),
    ("oauth.jwks", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("oauth.metadata", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("oauth.revoke", "POST"): ("401 401 401 401 401 401 401 401 401",),
    ("oauth.token", "POST"): ("ok ok ok ok ok ok ok ok ok",),
    ("ops.healthz", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("ops.metrics", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("ops.readyz", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("producers.authorizations_json", "GET"): ("404 404 404 404 404 404 404 ok ok",),
    ("producers.create_credential", "POST"): (
        "404 404 404 404 404 404 404 ok ok",
        "404 404 404 404 404 404 404 ok ok",
        "404 404 404 404 404 404 404 404 ok",
    ),
    ("producers.index", "GET"): ("404 404 404 404 404 404 404 ok ok",),
    ("requests.document", "GET"): (
        "login ok 404 ok ok ok 404 404 ok",
        "login 404 ok ok ok ok 404 404 ok",
        "login ok 404 404 404 404 ok 404 ok",
    ),
    ("requests.index", "GET"): ("login ok ok ok ok ok ok ok ok",),
    ("requests.new", "GET"): (
        "login ok ok ok ok ok ok ok ok",
        "login ok ok ok ok ok ok ok ok",
        "login ok ok ok ok ok ok ok ok",
    ),
    ("requests.new", "POST"): (
        "login ok ok ok ok ok ok ok ok",
        "login ok ok ok ok ok ok ok ok",
        "login ok ok ok ok ok ok ok ok",
    ),
    ("requests.post_message", "POST"): (
        "login ok 404 ok ok ok 404 404 ok",
        "login 404 ok ok ok ok 404 404 ok",
        "login ok 404 404 404 404 ok 404 ok",
    ),
    ("requests.show", "GET"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("requests.step", "GET"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("requests.step", "POST"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("requests.summary", "GET"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("requests.summary", "POST"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("static", "GET"): (
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
        "ok ok ok ok ok ok ok ok ok",
    ),
    ("stats.figures_csv", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("stats.index", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("stats.open_data", "GET"): ("ok ok ok ok ok ok ok ok ok",),
    ("webhooks.create", "POST"): ("404 404 404 404 404 404 404 ok ok",),
    ("webhooks.index", "GET"): ("404 404 404 404 404 404 404 ok ok",),
    ("webhooks.replay", "POST"): (
        "404 404 404 404 404 404 404 ok ok",
        "404 404 404 404 404 404 404 ok ok",
        "404 404 404 404 404 404 404 404 ok",
    ),
    ("webhooks.update", "POST"): (
        "404 404 404 404 404 404 404 ok ok",
        "404 404 404 404 404 404 404 ok ok",
        "404 404 404 404 404 404 404 404 ok",
    ),
    ("admin.ban", "POST"): (
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
        "login 403 403 403 403 403 403 403 ok",
    ),
    ("admin.remove_role", "POST"): (
        "login 404 404 404 404 ok 404 404 404",
        "login 404 404 404 404 ok 404 404 404",
        "login 404 404 404 404 404 404 404 ok",
    ),
    ("developers.revoke_client", "POST"): (
        "login 404 404 404 404 404 404 ok 404",
        "login 404 404 404 404 404 404 404 404",
        "login 404 404 404 404 404 404 404 404",
    ),
    ("instruction_tools.delete_template", "POST"): (
        "login 404 404 404 404 ok 404 404 404",
        "login 404 404 404 404 ok 404 404 404",
        "login 404 404 404 404 404 404 404 ok",
    ),
    ("lifecycle.revoke_authorization", "POST"): (
        "login 403 404 403 ok ok 404 404 ok",
        "login 404 403 403 ok ok 404 404 ok",
        "login 403 404 404 404 404 ok 404 ok",
    ),
    ("lifecycle.revoke_request", "POST"): (
        "login 404 404 403 ok ok 404 404 ok",
        "login 404 404 403 ok ok 404 404 ok",
        "login 404 404 404 404 404 ok 404 ok",
    ),
    ("producers.revoke_credential", "POST"): (
        "404 404 404 404 404 404 404 ok ok",
        "404 404 404 404 404 404 404 ok ok",
        "404 404 404 404 404 404 404 404 ok",
    ),
    ("requests.archive", "POST"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("requests.delete_document", "POST"): (
        "login ok 404 404 404 404 404 404 404",
        "login 404 ok 404 404 404 404 404 404",
        "login ok 404 404 404 404 404 404 404",
    ),
    ("webhooks.delete", "POST"): (
        "404 404 404 404 404 404 404 ok 404",
        "404 404 404 404 404 404 404 ok 404",
        "404 404 404 404 404 404 404 404 ok",
    ),
    ("accounts.logout", "POST"): ("login ok ok ok ok ok ok ok ok",),
}


@pytest.fixture
def world(make_app):
    return build_world(make_app(SIGNIN_RATE_LIMIT=0, PUBLIC_RATE_LIMIT=0))


def _parse(spec: tuple[str, ...], groups: tuple[str, ...]) -> dict[tuple[str, str], str]:
    expected = {}
    for obj, group in zip(groups, spec, strict=True):
        for role, answer in zip(ROLES, group.split(), strict=True):
            expected[(role, obj)] = answer
    return expected


def test_every_route_answers_every_role_as_the_table_says(world):
    mismatches, missing, seen = [], [], set()
    for endpoint, method, rule in routes(world.app):
        seen.add((endpoint, method))
        if (endpoint, method) not in EXPECTED:
            missing.append(f"{endpoint} {method} {rule.rule}")
            continue
        groups = OBJECTS if rule.arguments else ("own",)
        expected = _parse(EXPECTED[(endpoint, method)], groups)
        got = observe(world, endpoint, method, rule)
        for key, answer in expected.items():
            if got[key] != answer:
                mismatches.append(f"{endpoint} {method} {key}: expected {answer}, got {got[key]}")
    assert not missing, "routes missing from EXPECTED (add them, reviewed):\n" + "\n".join(missing)
    assert not mismatches, "\n".join(mismatches)
    assert not set(EXPECTED) - seen, f"stale entries: {set(EXPECTED) - seen}"


def test_an_unknown_method_is_405_on_every_route(app):
    """Only the API's catch-all (a problem document for any method) answers 404 instead."""
    client = app.test_client()
    for endpoint, _, rule in routes(app):
        if "PUT" in rule.methods:
            continue
        values = {
            name: 1 if isinstance(rule._converters.get(name), IntegerConverter) else "x"
            for name in rule.arguments
        }
        path = rule.build(values, append_unknown=False)[1]
        response = client.put(path, buffered=True)
        expected = 404 if path.startswith("/api/v1/") else 405
        assert response.status_code == expected, (endpoint, path, response.status_code)
