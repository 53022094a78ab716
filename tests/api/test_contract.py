"""The OpenAPI document and the code cannot drift: same routes, same methods, same scopes,
valid schemas (responses are checked against it in every API test, see contract.py)."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from tests.api.contract import openapi_path, spec_of

METHODS = {"get", "post", "patch", "put", "delete"}


def _routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.not_found":
            for method in rule.methods & {m.upper() for m in METHODS}:
                routes.add((openapi_path(rule.rule), method.lower()))
    return routes


def _documented(spec) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    }


def test_every_route_is_documented_and_every_operation_exists(app):
    spec = spec_of(app)
    assert _routes(app) == _documented(spec)
    assert spec["openapi"].startswith("3.1")


def test_the_served_document_is_the_one_in_use(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json == spec_of(app)


def test_scopes_of_the_document_are_those_the_views_require(app):
    from datapass.api.auth import API_SCOPES

    spec = spec_of(app)
    flows = spec["components"]["securitySchemes"]["apiClient"]["flows"]
    assert set(flows["clientCredentials"]["scopes"]) == set(API_SCOPES)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.not_found":
            continue
        view = app.view_functions[rule.endpoint]
        for method in rule.methods & {m.upper() for m in METHODS}:
            operation = spec["paths"][openapi_path(rule.rule)][method.lower()]
            required = getattr(view, "required_scope", None)
            assert operation.get("x-required-scope") == required, rule.rule
            if required:
                assert operation["security"] == [{"apiClient": [required]}]
                assert "403" in operation["responses"]
            if operation.get("security", spec["security"]):
                assert "401" in operation["responses"], rule.rule


def test_every_schema_is_valid_json_schema(app):
    spec = spec_of(app)
    for name, schema in spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema), name
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            assert operation["operationId"] and operation["summary"], (path, method)
            for response in operation["responses"].values():
                for media in response.get("content", {}).values():
                    Draft202012Validator.check_schema(media["schema"])


def test_docs_page_renders_every_operation(app, client):
    response = client.get("/developers/docs")
    assert response.status_code == 200
    assert response.text.count('data-testid="operation"') == len(_documented(spec_of(app)))
    assert "/requests/{request_id}/decisions" in response.text
