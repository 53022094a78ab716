"""Drive every route of app.url_map for every role and object of the seeded world."""

from __future__ import annotations

from tests.security.world import OBJECTS, ROLES, World

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# Calls that end every session of the user: made with a fresh sign-in, not the shared cookie.
SESSION_ENDING = {"accounts.logout"}
# Calls that remove their object: after every other call, so that those still find it.
REMOVING = {
    "admin.ban",
    "admin.remove_role",
    "developers.revoke_client",
    "instruction_tools.delete_template",
    "lifecycle.revoke_authorization",
    "lifecycle.revoke_request",
    "producers.revoke_credential",
    "requests.archive",
    "requests.delete_document",
    "webhooks.delete",
}
# Path parameters whose value depends on the endpoint, not only on the parameter name.
PARAM_OVERRIDES = {
    ("developers.revoke_client", "credential_id"): "api_client_id",
    ("producers.revoke_credential", "credential_id"): "producer_credential_id",
    ("static", "filename"): "datapass.css",
    ("dsfr", "filename"): "dsfr.min.css",
}


def routes(app):
    """(endpoint, method, rule) for every route, in a stable order."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - SKIPPED_METHODS):
            found.append((rule.endpoint, method, rule))
    # The calls ending every session of the user go last: the shared cookies die with them.
    return sorted(found, key=lambda r: (r[0] in SESSION_ENDING, r[0] in REMOVING, r[0], r[1]))


def path_for(endpoint: str, rule, values: dict) -> str:
    params = {}
    for name in rule.arguments:
        key = PARAM_OVERRIDES.get((endpoint, name), name)
        params[name] = values.get(key, key)
    return rule.build(params, append_unknown=False)[1]


def answer_class(response) -> str:
    """One of: ok, login, 401, 403, 404, 405, 429, 5xx."""
    status = response.status_code
    if status >= 500:
        return "5xx"
    if status in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "login"
    if status in (401, 403, 404, 405, 429):
        return str(status)
    return "ok"  # 2xx, another redirect, or an allowed call refused on its content (400/409/422)


def observe(world: World, endpoint: str, method: str, rule) -> dict[tuple[str, str], str]:
    """The answer class for each (role, object) pair."""
    got = {}
    objects = OBJECTS if rule.arguments else ("own",)
    for obj in objects:
        path = path_for(endpoint, rule, world.objects[obj])
        for role in ROLES:
            client = world.client(role, fresh=endpoint in SESSION_ENDING)
            if method in ("GET", "DELETE"):
                response = client.open(path, method=method, buffered=True)
            elif path.startswith("/api/"):
                response = client.open(path, method=method, json={}, buffered=True)
            else:
                response = client.open(path, method=method, data={}, buffered=True)
            got[(role, obj)] = answer_class(response)
            response.close()
    return got
