"""CSRF on every form: every POST route of the UI, taken from app.url_map, refuses a request
without a token (WTF_CSRF_ENABLED=True), for a signed-in administrator who could do anything."""

from __future__ import annotations

import pytest

from tests.security.matrix import routes

# Exempt by design: machine endpoints authenticated otherwise (OAuth client credentials, API
# bearer tokens) and the RFC 8058 one-click unsubscribe, which mail clients POST without a page.
EXEMPT_PREFIXES = ("api.", "oauth.")
EXEMPT = {"notifications.unsubscribe"}
CSRF_REFUSED = "refused by CSRFProtect"


@pytest.fixture
def csrf_app(make_app):
    from flask_wtf.csrf import CSRFError

    app = make_app(WTF_CSRF_ENABLED=True, SIGNIN_RATE_LIMIT=0)
    # Tells a CSRF refusal from a form's own 400 (both answer the same French error page).
    app.register_error_handler(CSRFError, lambda error: (CSRF_REFUSED, 400))
    return app


def _signed_in(app, user_id: int):
    """A client whose session holds the user, without going through the (CSRF) sign-in form."""
    from datapass.accounts.models import User
    from datapass.extensions import db

    with app.app_context():
        version = db.session.get(User, user_id).session_version
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["session_version"] = version
    return client


def _ui_post_routes(app):
    for endpoint, method, rule in routes(app):
        if method != "POST" or endpoint.startswith(EXEMPT_PREFIXES) or endpoint in EXEMPT:
            continue
        yield endpoint, rule


def test_every_ui_post_without_a_token_is_refused(csrf_app):
    from tests.factories import Factory

    factory = Factory(csrf_app)
    org = factory.organization()
    admin = factory.user(admin=True, organizations=(org,))
    client = _signed_in(csrf_app, admin)
    assert client.get("/requests").status_code == 200  # really signed in
    checked, accepted = [], []
    for endpoint, rule in _ui_post_routes(csrf_app):
        values = {name: 1 for name in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        response = client.post(path, data={"reason": "x", "email": "a@b.fr"}, buffered=True)
        checked.append(endpoint)
        if response.status_code != 400 or response.get_data(as_text=True) != CSRF_REFUSED:
            accepted.append(f"{endpoint}: {response.status_code}")
    assert len(checked) > 30
    assert not accepted, accepted


def test_the_token_of_the_page_is_accepted(csrf_app):
    """The control: with the form's token, the same kind of post goes through."""
    import re

    from tests.factories import Factory

    factory = Factory(csrf_app)
    user = factory.user(organizations=(factory.organization(),))
    client = _signed_in(csrf_app, user)
    page = client.get("/organizations").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code in (302, 303)


def test_the_exempt_endpoints_are_only_machine_ones(csrf_app):
    exempt = [
        endpoint
        for endpoint, method, _ in routes(csrf_app)
        if method == "POST" and (endpoint.startswith(EXEMPT_PREFIXES) or endpoint in EXEMPT)
    ]
    for endpoint in exempt:
        assert endpoint.split(".")[0] in ("api", "oauth") or endpoint in EXEMPT
