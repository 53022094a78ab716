"""Property-based fuzzing: hostile input (very long strings, unicode, HTML/JS, SQL-like text,
bad SIRETs, bad dates) into every form found on the pages of the seeded world, and into the
API bodies. Never a 500; never a payload rendered unescaped, neither in the answer nor on any
page afterwards."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.matrix import path_for, routes
from tests.security.world import build_world

FUZZ = settings(
    derandomize=True,
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MARKER = "<script>alert('dp')</script>"
HOSTILE = [
    MARKER,
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE users; --",
    "1 OR 1=1",
    "../../../../etc/passwd",
    "12345678901234",  # a SIRET failing Luhn
    "٣٥٦٠٠٠٠٠٠٠٠٠٠٠",  # Arabic-Indic digits
    "2024-02-30",
    "31/12/99999",
    "\u202eRTL\u0000NUL\ufeff",
    "𝔡𝔞𝔱𝔞𝔭𝔞𝔰𝔰 🙂",
    "%s%s%n{0}{{7*7}}",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.text(min_size=5_001, max_size=6_000, alphabet="aé<>&\"' \n"),
    st.builds(lambda t: f"{MARKER}{t}", st.text(max_size=20)),
)
TEXT_TYPES = {"text", "email", "url", "date", "number", "tel", "search", None, ""}
# Forms not fuzzed: they end the session or switch the signed-in identity.
SKIPPED_ACTIONS = ("/logout", "/impersonate", "/impersonation/stop")


class FormParser(HTMLParser):
    """The POST forms of a page: action, fixed fields (hidden, checkbox, select) and text fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"action": a.get("action") or "", "fixed": {}, "text": set()}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "textarea":
            self._form["text"].add(a["name"])
        elif tag == "input":
            kind = a.get("type")
            if kind in TEXT_TYPES:
                self._form["text"].add(a["name"])
            elif kind in ("hidden", "checkbox", "radio") and a["name"] not in self._form["fixed"]:
                self._form["fixed"][a["name"]] = a.get("value") or "y"
        elif tag == "select":
            self._select = a["name"]
        if tag == "option" and self._select and self._select not in self._form["fixed"]:
            self._form["fixed"][self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def assert_escaped(response, value: str, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if response.mimetype == "text/html" and "<script>" in value:
        assert MARKER not in response.get_data(as_text=True), f"{where}: unescaped"


def _pages(world, role):
    for endpoint, method, rule in routes(world.app):
        if method == "GET" and not endpoint.startswith(
            ("api.", "oauth.", "ops.", "static", "dsfr")
        ):
            yield path_for(endpoint, rule, world.objects["own"])
    if role == "applicant_a":  # the request form itself: every step of a draft
        yield from world.objects["draft_pages"]


def _forms(world, role) -> list[tuple[str, dict]]:
    found = {}
    for path in _pages(world, role):
        response = world.client(role).get(path, buffered=True)
        if response.mimetype != "text/html":
            continue
        parser = FormParser()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            action = form["action"] or path
            if form["text"] and not action.endswith(SKIPPED_ACTIONS):
                found.setdefault((action, tuple(sorted(form["text"]))), form)
    return sorted(found.items())


@pytest.fixture
def world(make_app):
    from datapass.catalog import get_definition
    from tests.factories import Factory

    world = build_world(make_app(SIGNIN_RATE_LIMIT=0, PUBLIC_RATE_LIMIT=0))
    factory = Factory(world.app)
    with world.app.app_context():
        blocks = list(get_definition("api_particulier").blocks)
    orgs = world.objects["own"]
    draft = factory.request(world.users["applicant_a"], _org_of(world, orgs["request_id"]))
    pages = [f"/requests/{draft}/steps/{block}" for block in blocks]
    world.objects["draft_pages"] = [
        *pages,
        f"/requests/{draft}/summary",
        "/requests/new/api_particulier",
    ]
    return world


def _org_of(world, request_id: int) -> int:
    from datapass.extensions import db
    from datapass.requests.models import AuthorizationRequest

    with world.app.app_context():
        return db.session.get(AuthorizationRequest, request_id).organization_id


@pytest.mark.parametrize("role", ["applicant_a", "manager_x", "developer_x", "admin"])
def test_every_form_survives_hostile_input(world, role):
    forms = _forms(world, role)
    assert forms, "no form found: the parser is broken"

    @FUZZ
    @given(value=hostile_text)
    def post_everywhere(value):
        for (action, _), form in forms:
            data = {**form["fixed"], **dict.fromkeys(form["text"], value)}
            response = world.client(role).post(action, data=data, buffered=True)
            assert_escaped(response, value, f"{role} POST {action}")

    post_everywhere()
    for path in _pages(world, role):  # what was stored is shown escaped
        response = world.client(role).get(path, buffered=True)
        assert_escaped(response, MARKER + "<script>", f"{role} GET {path}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@pytest.fixture
def api(world):
    import base64

    from datapass.accounts.models import User
    from datapass.developers.services import create_api_client
    from datapass.extensions import db

    app = world.app
    with app.app_context():
        owner = db.session.get(User, world.users["admin"])
        scopes = ["read_requests", "write_requests", "instruct", "read_authorizations"]
        credential, secret = create_api_client(owner, "Fuzz", scopes)
        db.session.commit()
        basic = base64.b64encode(f"{credential.client_id}:{secret}".encode()).decode()
    client = app.test_client()
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ).json["access_token"]
    return client, {"Authorization": f"Bearer {token}"}


def test_every_api_body_survives_hostile_input(world, api):
    client, headers = api
    own = world.objects["own"]["request_id"]

    @FUZZ
    @given(value=hostile_text, body=json_values)
    def call_everywhere(value, body):
        calls = [
            ("POST", "/api/v1/requests", {"definition_id": "api_particulier", "siret": value}),
            ("POST", "/api/v1/requests", body),
            ("PATCH", f"/api/v1/requests/{own}", {"data": {"intitule": value}}),
            ("PATCH", f"/api/v1/requests/{own}", {"data": body, "lock_version": value}),
            ("POST", f"/api/v1/requests/{own}/decisions", {"decision": value, "reason": value}),
            ("POST", f"/api/v1/requests/{own}/decisions", body),
            ("GET", f"/api/v1/requests?state={value[:200]}&updated_since={value[:50]}", None),
        ]
        for method, path, payload in calls:
            response = client.open(path, method=method, json=payload, headers=headers)
            assert response.status_code < 500, (method, path, response.status_code)
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", (method, path)

    call_everywhere()
