"""Security headers on every HTML page, pages the strict CSP does not break, session cookies."""

from __future__ import annotations

import re

import pytest

from tests.security.matrix import path_for, routes
from tests.security.world import build_world

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


def check_headers(response, *, production: bool = False) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    if production:
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    else:
        assert "Strict-Transport-Security" not in response.headers


def check_no_inline_code(path: str, html: str) -> None:
    """What the CSP would block must not be in the page: it would break silently."""
    for name, pattern in (
        ("inline script", INLINE_SCRIPT),
        ("style attribute", STYLE_ATTRIBUTE),
        ("event handler attribute", EVENT_HANDLER),
        ("style element", STYLE_ELEMENT),
    ):
        found = pattern.search(html)
        assert found is None, f"{path}: {name} {found.group(0)[:80]!r}"


@pytest.fixture
def world(make_app):
    return build_world(make_app(SIGNIN_RATE_LIMIT=0, PUBLIC_RATE_LIMIT=0))


def test_every_html_page_has_the_headers_and_no_inline_code(world):
    """Every GET route, as each kind of user: what they see is what the CSP must allow."""
    pages = 0
    for role in ("anonymous", "applicant_a", "manager_x", "developer_x", "admin"):
        for endpoint, method, rule in routes(world.app):
            if method != "GET":
                continue
            path = path_for(endpoint, rule, world.objects["own"])
            response = world.client(role).get(path, buffered=True)
            check_headers(response)
            if response.mimetype == "text/html":
                pages += 1
                check_no_inline_code(path, response.get_data(as_text=True))
    assert pages >= 60


def test_error_pages_have_the_headers_too(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    check_headers(response)


def test_production_adds_hsts_and_secure_cookies(make_app):
    app = make_app(ENV_NAME="production", DEV_LOGIN=False, LOG_FORMAT="none")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = app.test_client()
    response = client.get("/", base_url="https://datapass.example.gouv.fr")
    check_headers(response, production=True)


def test_the_session_cookie_is_httponly_samesite_and_secure_in_production(make_app, factory):
    for secure in (False, True):
        app = make_app(SESSION_COOKIE_SECURE=secure)
        from tests.factories import Factory

        user = Factory(app).user()
        with app.app_context():
            from datapass.accounts.models import User
            from datapass.extensions import db

            email = db.session.get(User, user).email
        response = app.test_client().post(
            "/login", data={"email": email}, base_url="https://localhost"
        )
        cookie = next(
            v for k, v in response.headers.items() if k == "Set-Cookie" and "session=" in v
        )
        attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")}
        assert "httponly" in attributes
        assert "samesite=lax" in cookie.lower()
        assert ("secure" in attributes) is secure


def test_the_oidc_provider_may_receive_the_logout_form(make_app):
    from datapass.security import content_security_policy

    csp = content_security_policy({"OIDC_ISSUER": "https://auth.agentconnect.gouv.fr/api/v2"})
    assert "form-action 'self' https://auth.agentconnect.gouv.fr" in csp
