"""A session cookie captured before sign-out (or before a ban) is refused afterwards.

Flask's sessions are signed cookies: without the per-user session_version, a copy of the cookie
would stay valid after sign-out. Each test replays the exact cookie bytes from a new client.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def applicant(factory):
    org = factory.organization()
    return factory.user(organizations=(org,))


def _captured(client) -> str:
    return client.get_cookie("session", domain="localhost").value


def _replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    return thief.get("/requests")


def test_a_cookie_captured_before_logout_is_refused_after(app, login_as, applicant):
    victim = login_as(applicant)
    cookie = _captured(victim)
    assert _replay(app, cookie).status_code == 200  # the copy works while the session lives

    assert victim.post("/logout").status_code in (302, 303)

    replayed = _replay(app, cookie)
    assert replayed.status_code == 302
    assert "/login" in replayed.headers["Location"]
    assert victim.get("/requests").status_code == 302


def test_logout_ends_the_sessions_of_every_browser(app, login_as, applicant):
    laptop, phone = login_as(applicant), login_as(applicant)
    laptop.post("/logout")
    assert phone.get("/requests").status_code == 302


def test_a_cookie_captured_before_a_ban_is_refused_after(app, factory, login_as, applicant):
    cookie = _captured(login_as(applicant))
    admin = login_as(factory.user(admin=True))
    response = admin.post(f"/admin/users/{applicant}/ban", data={"reason": "Usage frauduleux"})
    assert response.status_code == 303

    replayed = _replay(app, cookie)
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]
    # and the banned user cannot sign in again
    again = app.test_client().post("/login", data={"email": _email(app, applicant)})
    assert again.status_code == 200 and "suspendu" in again.get_data(as_text=True)


def test_a_forged_or_tampered_cookie_is_ignored(app, login_as, applicant):
    cookie = _captured(login_as(applicant))
    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    response = _replay(app, tampered)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _email(app, user_id: int) -> str:
    from datapass.accounts.models import User
    from datapass.extensions import db

    with app.app_context():
        return db.session.get(User, user_id).email
