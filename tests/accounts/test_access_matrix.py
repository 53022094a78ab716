"""Access matrix of the accounts and rights pages: every endpoint × every kind of user.

Expected statuses: 200/303 allowed, 302 to the login page for anonymous, 403 refused, 404 for
another scope's object (as if it did not exist).
"""

from __future__ import annotations

import pytest

from datapass.accounts.models import Membership, Role
from datapass.extensions import db

PROFILES = (
    "anonymous",
    "applicant",
    "reporter",
    "instructor",
    "developer",
    "manager",
    "other_manager",
    "admin",
)


@pytest.fixture
def world(app, factory, login_as):
    org = factory.organization()
    other_org = factory.organization()
    users = {
        "applicant": factory.user(organizations=(org,)),
        "reporter": factory.user(roles=(("reporter", "api_particulier"),)),
        "instructor": factory.user(roles=(("instructor", "api_particulier"),)),
        "developer": factory.user(roles=(("developer", "api_particulier"),)),
        "manager": factory.user(roles=(("manager", "api_particulier"),)),
        "other_manager": factory.user(roles=(("manager", "api_entreprise"),)),
        "admin": factory.user(admin=True),
    }
    target = factory.user(organizations=(other_org,), roles=(("reporter", "api_particulier"),))
    with app.app_context():
        membership_id = (
            db.session.query(Membership.id).filter(Membership.user_id == target).scalar()
        )
    clients = {name: login_as(user_id) for name, user_id in users.items()}
    clients["anonymous"] = app.test_client()
    return app, clients, target, membership_id


def _role_id(app, target: int) -> int:
    """The target's reporter role, granted again if a previous profile removed it."""
    with app.app_context():
        role = db.session.query(Role).filter(Role.user_id == target).one_or_none()
        if role is None:
            role = Role(user_id=target, role="reporter", definition_id="api_particulier")
            db.session.add(role)
            db.session.commit()
        return role.id


# endpoint -> expected status per profile, in PROFILES' order.
MATRIX = {
    ("GET", "/organizations"): (302, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/admin/rights"): (302, 403, 403, 403, 403, 200, 200, 200),
    ("GET", "/admin/users"): (302, 403, 403, 403, 403, 403, 403, 200),
    ("GET", "/admin/users/{target}"): (302, 403, 403, 403, 403, 403, 403, 200),
    ("GET", "/admin/audit"): (302, 403, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/users/{target}/ban"): (302, 403, 403, 403, 403, 403, 403, 303),
    ("POST", "/admin/users/{target}/memberships/{membership}/verify"): (
        302,
        403,
        403,
        403,
        403,
        403,
        403,
        303,
    ),
    ("POST", "/admin/users/{target}/impersonate"): (302, 403, 403, 403, 403, 403, 403, 303),
    ("POST", "/admin/rights/{role}/remove"): (302, 404, 404, 404, 404, 303, 404, 303),
}


@pytest.mark.parametrize(("method", "path"), list(MATRIX))
def test_access_matrix(world, method, path):
    app, clients, target, membership_id = world
    got = {}
    for profile in PROFILES:
        url = path.format(target=target, role=_role_id(app, target), membership=membership_id)
        client = clients[profile]
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"reason": "Contrôle de la matrice"})
        got[profile] = response.status_code
    assert got == dict(zip(PROFILES, MATRIX[(method, path)], strict=True))
