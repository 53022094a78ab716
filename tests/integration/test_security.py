"""Cross-cutting protections: CSRF on form posts, sign-in on private pages, dev login, logout."""

from __future__ import annotations

import re

import pytest

from datapass.config import ConfigError
from datapass.extensions import db
from tests.integration.helpers import error_message, flashes

CSRF_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_token(page: str) -> str:
    match = CSRF_TOKEN.search(page)
    assert match, "no CSRF token on the page"
    return next(group for group in match.groups() if group)


@pytest.fixture
def csrf_app(app, make_app):
    """A second app on the same database, with CSRF protection on (as in production)."""
    protected = make_app(WTF_CSRF_ENABLED=True)
    yield protected
    with protected.app_context():
        db.engine.dispose()


def sign_in(client, email: str) -> None:
    token = csrf_token(client.get("/login").text)
    response = client.post("/login", data={"email": email, "csrf_token": token})
    assert response.status_code == 302, response.text


def test_a_post_without_csrf_token_is_rejected_and_changes_nothing(
    csrf_app, factory, applicant, org, instructor
):
    draft = factory.request(applicant, org)
    submitted = factory.request(applicant, org, state="submitted")
    me = csrf_app.test_client()
    login = me.post("/login", data={"email": "camille.martin@clamart.fr"})
    assert login.status_code == 400  # even the development login
    sign_in(me, "camille.martin@clamart.fr")
    for url, data in [
        (f"/requests/{draft}/summary", {"terms_accepted": "y", "dpo_informed": "y"}),
        (f"/requests/{draft}/steps/basic_infos", {"intitule": "Sans jeton", "description": "x"}),
        (f"/requests/{draft}/archive", {}),
        (f"/requests/{submitted}/messages", {"body": "Sans jeton"}),
        ("/requests/new/api_particulier", {"organization_id": org}),
    ]:
        response = me.post(url, data=data)
        assert response.status_code == 400, url
        assert error_message(response.text) == "La requête est invalide."
    assert factory.get_request(draft).state == "draft"
    assert factory.get_request(draft).data["intitule"] != "Sans jeton"
    staff = csrf_app.test_client()
    sign_in(staff, "instr@dinum.fr")
    version = factory.get_request(submitted).lock_version
    response = staff.post(
        f"/instruction/requests/{submitted}/decision",
        data={"decision": "approve", "lock_version": version},
    )
    assert response.status_code == 400
    assert factory.get_request(submitted).state == "submitted"
    # With the page's token, the same post goes through.
    page = staff.get(f"/instruction/requests/{submitted}").text
    response = staff.post(
        f"/instruction/requests/{submitted}/decision",
        data={"decision": "approve", "lock_version": version, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    assert factory.get_request(submitted).state == "validated"


def test_a_token_from_another_session_is_rejected(csrf_app, factory, applicant, org, outsider):
    draft = factory.request(applicant, org)
    other = csrf_app.test_client()
    sign_in(other, "paul.durand@paris.fr")
    foreign_token = csrf_token(other.get("/requests").text)
    me = csrf_app.test_client()
    sign_in(me, "camille.martin@clamart.fr")
    response = me.post(f"/requests/{draft}/archive", data={"csrf_token": foreign_token})
    assert response.status_code == 400
    assert factory.get_request(draft).state == "draft"


PRIVATE_PAGES = [
    "/requests",
    "/requests/new/api_particulier",
    "/requests/1",
    "/requests/1/summary",
    "/requests/1/steps/basic_infos",
    "/requests/1/documents/1",
    "/instruction",
    "/instruction/requests/1",
    "/authorizations/1",
]


def test_private_pages_send_anonymous_visitors_to_the_login(client):
    for path in PRIVATE_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login?next="), path
        assert path.split("/")[1] in response.location


def test_anonymous_posts_change_nothing(client, factory, applicant, org):
    draft = factory.request(applicant, org)
    for url in (f"/requests/{draft}/archive", f"/requests/{draft}/summary"):
        response = client.post(url, data={"terms_accepted": "y", "dpo_informed": "y"})
        assert response.status_code == 302 and response.location.startswith("/login")
    assert factory.get_request(draft).state == "draft"


def test_dev_login_is_closed_outside_dev_login_mode(make_app, factory, applicant):
    closed = make_app(DEV_LOGIN=False)
    client = closed.test_client()
    response = client.post("/login", data={"email": "camille.martin@clamart.fr"})
    assert response.status_code == 404
    page = client.get("/login")
    assert "camille.martin@clamart.fr" not in page.text  # no list of accounts
    assert client.get("/requests").status_code == 302  # still signed out
    with closed.app_context():
        db.engine.dispose()


def test_production_refuses_the_dev_login(make_app):
    with pytest.raises(ConfigError, match="DEV_LOGIN"):
        make_app(ENV_NAME="production", DEV_LOGIN=True)


def test_dev_login_signs_in_and_only_redirects_to_same_site_paths(client, applicant):
    response = client.post(
        "/login?next=https://evil.example/steal", data={"email": "camille.martin@clamart.fr"}
    )
    assert response.status_code == 302
    assert response.location == "/"
    client.post("/logout")
    response = client.post(
        "/login?next=//evil.example", data={"email": "camille.martin@clamart.fr"}
    )
    assert response.location == "/"
    client.post("/logout")
    response = client.post("/login?next=/requests", data={"email": "camille.martin@clamart.fr"})
    assert response.location == "/requests"
    assert client.get("/requests").status_code == 200
    unknown = client.post("/login", data={"email": "inconnu@example.fr"})
    assert "Compte inconnu." in flashes(unknown.text)


def test_logout_is_a_post(login_as, applicant):
    me = login_as(applicant)
    assert me.get("/logout").status_code == 405
    assert me.get("/requests").status_code == 200  # a GET (a link, an image) does not sign out
    response = me.post("/logout", follow_redirects=True)
    assert "Vous êtes déconnecté." in flashes(response.text)
    assert me.get("/requests").status_code == 302
