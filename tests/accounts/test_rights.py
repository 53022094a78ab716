"""Roles and rights: managers within their scope, admins everywhere, bans, impersonation, audit."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from datapass.accounts.models import Membership, Role, User
from datapass.extensions import db
from datapass.lifecycle.models import Event


def _roles(app, user_id) -> set[tuple[str, str]]:
    with app.app_context():
        return {(r.role, r.definition_id) for r in db.session.get(User, user_id).roles}


def _audit(app, name) -> list[Event]:
    with app.app_context():
        events = db.session.scalars(select(Event).where(Event.name == name)).all()
        for event in events:
            db.session.expunge(event)
        return events


def test_role_hierarchy_and_provider_wide_grant(app, factory):
    manager = factory.user(roles=(("manager", "api_particulier"),))
    provider_wide = factory.user(roles=(("reporter", "provider:dinum"),))
    developer = factory.user(roles=(("developer", "api_particulier"),))
    with app.app_context():
        user = db.session.get(User, manager)
        assert user.has_role("instructor", "api_particulier")
        assert user.has_role("reporter", "api_particulier")
        assert not user.has_role("developer", "api_particulier")
        assert not user.has_role("reporter", "api_entreprise")

        from datapass.catalog import all_definitions

        dinum = {d.id for d in all_definitions().values() if d.provider.slug == "dinum"}
        others = set(all_definitions()) - dinum
        assert dinum and others
        wide = db.session.get(User, provider_wide)
        assert wide.definitions_with("reporter") == dinum
        assert not wide.has_role("instructor", next(iter(dinum)))

        dev = db.session.get(User, developer)
        assert dev.definitions_with("reporter") == set() and not dev.is_staff


def test_manager_grants_and_removes_within_its_scope(app, factory, login_as):
    manager = factory.user(roles=(("manager", "api_particulier"),))
    agent = factory.user(email="agent@example.gouv.fr")
    client = login_as(manager)
    page = client.get("/admin/rights")
    assert page.status_code == 200
    assert 'value="api_particulier"' in page.text
    assert 'value="api_entreprise"' not in page.text and "provider:" not in page.text

    response = client.post(
        "/admin/rights",
        data={"email": "Agent@example.gouv.fr", "role": "instructor", "scope": "api_particulier"},
    )
    assert response.status_code == 303
    assert _roles(app, agent) == {("instructor", "api_particulier")}
    [granted] = _audit(app, "grant_role")
    assert granted.user_id == manager
    assert granted.changes == {
        "target_user_id": agent,
        "target_email": "agent@example.gouv.fr",
        "role": "instructor",
        "scope": "api_particulier",
    }

    outside = client.post(
        "/admin/rights",
        data={"email": "agent@example.gouv.fr", "role": "instructor", "scope": "api_entreprise"},
    )
    assert outside.status_code == 400
    assert "choix" in unescape(outside.text).lower() or "valide" in unescape(outside.text)
    assert _roles(app, agent) == {("instructor", "api_particulier")}

    twice = client.post(
        "/admin/rights",
        data={"email": "agent@example.gouv.fr", "role": "instructor", "scope": "api_particulier"},
    )
    assert twice.status_code == 400 and "a déjà ce rôle" in unescape(twice.text)

    unknown = client.post(
        "/admin/rights",
        data={"email": "nobody@example.gouv.fr", "role": "reporter", "scope": "api_particulier"},
    )
    assert unknown.status_code == 400 and "Aucun compte" in unescape(unknown.text)

    with app.app_context():
        role_id = db.session.scalar(select(Role.id).where(Role.user_id == agent))
    assert client.post(f"/admin/rights/{role_id}/remove").status_code == 303
    assert _roles(app, agent) == set()
    [removed] = _audit(app, "remove_role")
    assert removed.user_id == manager and removed.changes["role"] == "instructor"


def test_manager_cannot_remove_a_role_outside_its_scope(app, factory, login_as):
    manager = factory.user(roles=(("manager", "api_particulier"),))
    other = factory.user(roles=(("instructor", "api_entreprise"),))
    with app.app_context():
        role_id = db.session.scalar(select(Role.id).where(Role.user_id == other))
    client = login_as(manager)
    assert client.post(f"/admin/rights/{role_id}/remove").status_code == 404
    assert _roles(app, other) == {("instructor", "api_entreprise")}
    assert f"role-{role_id}" not in client.get("/admin/rights").text


@pytest.mark.parametrize(
    "roles", [(), (("instructor", "api_particulier"),), (("developer", "api_particulier"),)]
)
def test_rights_pages_are_refused_below_manager(factory, login_as, roles):
    client = login_as(factory.user(roles=roles))
    assert client.get("/admin/rights").status_code == 403
    for path in ("/admin/users", "/admin/audit", "/admin/users/1"):
        assert client.get(path).status_code == 403


def test_admin_grants_a_provider_wide_role(app, factory, login_as):
    admin = factory.user(admin=True)
    agent = factory.user(email="wide@example.gouv.fr")
    client = login_as(admin)
    response = client.post(
        "/admin/rights",
        data={"email": "wide@example.gouv.fr", "role": "manager", "scope": "provider:dinum"},
    )
    assert response.status_code == 303
    assert _roles(app, agent) == {("manager", "provider:dinum")}
    page = client.get("/admin/rights")
    assert "Gestionnaire — Toutes les API de DINUM" in unescape(page.text)
    # The provider-wide manager now manages every DINUM definition, not the others.
    wide_client = login_as(agent)
    scopes = wide_client.get("/admin/rights").text
    assert 'value="api_particulier"' in scopes and 'value="provider:dinum"' in scopes


def test_ban_signs_the_user_out_at_its_next_request(app, factory, login_as):
    admin = factory.user(admin=True)
    target = factory.user()
    victim_client = login_as(target)
    assert victim_client.get("/requests").status_code == 200
    admin_client = login_as(admin)

    empty = admin_client.post(f"/admin/users/{target}/ban", data={"reason": "  "})
    assert empty.status_code == 400 and "Indiquez un motif" in unescape(empty.text)
    assert victim_client.get("/requests").status_code == 200

    response = admin_client.post(f"/admin/users/{target}/ban", data={"reason": "Compte compromis"})
    assert response.status_code == 303
    assert victim_client.get("/requests").status_code == 302
    with app.app_context():
        email = db.session.get(User, target).email
    relogin = app.test_client().post("/login", data={"email": email})
    assert relogin.status_code == 200 and "suspendu" in relogin.text
    [event] = _audit(app, "ban_user")
    assert event.user_id == admin and event.reason == "Compte compromis"

    assert (
        admin_client.post(f"/admin/users/{target}/unban", data={"reason": "Vérifié"}).status_code
        == 303
    )
    assert login_as(target).get("/requests").status_code == 200


def test_admin_verifies_a_membership_with_a_reason(app, factory, login_as):
    org = factory.organization()
    admin = factory.user(admin=True)
    target = factory.user(organizations=(org,))
    with app.app_context():
        membership_id = db.session.scalar(select(Membership.id).where(Membership.user_id == target))
    client = login_as(admin)
    assert "Non vérifiée" in client.get(f"/admin/users/{target}").text
    path = f"/admin/users/{target}/memberships/{membership_id}/verify"
    assert client.post(path, data={"reason": ""}).status_code == 400
    assert client.post(path, data={"reason": "Arrêté de nomination reçu"}).status_code == 303
    with app.app_context():
        membership = db.session.get(Membership, membership_id)
        assert membership.verified and membership.verified_by == "admin"
        assert membership.verification_reason == "Arrêté de nomination reçu"
    assert "Vérifiée par un administrateur" in client.get(f"/admin/users/{target}").text
    assert (
        login_as(factory.user(roles=(("manager", "api_particulier"),)))
        .post(path, data={"reason": "x"})
        .status_code
        == 403
    )


def test_impersonation_needs_a_reason_and_records_every_action(app, factory, login_as):
    org = factory.organization()
    admin = factory.user(admin=True)
    target = factory.user(organizations=(org,))
    client = login_as(admin)
    assert client.post(f"/admin/users/{target}/impersonate", data={"reason": ""}).status_code == 400

    response = client.post(
        f"/admin/users/{target}/impersonate", data={"reason": "Ticket support n°42"}
    )
    assert response.status_code == 303
    page = client.get("/requests")
    assert 'data-testid="impersonation-banner"' in page.text
    with app.app_context():
        name = db.session.get(User, target).full_name
    assert f'data-testid="current-user">{name}' in page.text

    client.post("/organizations", data={"siret": "21920023500014"})
    [action] = _audit(app, "impersonated_action")
    assert action.user_id == admin and action.changes["path"] == "/organizations"
    assert action.changes["target_user_id"] == target

    assert client.post("/admin/impersonation/stop").status_code == 303
    assert 'data-testid="impersonation-banner"' not in client.get("/admin/users").text
    names = [e.name for e in _audit(app, "start_impersonation") + _audit(app, "stop_impersonation")]
    assert names == ["start_impersonation", "stop_impersonation"]
    audit = unescape(client.get("/admin/audit").text)
    assert "Ticket support n°42" in audit and "/organizations" in audit


def test_a_plain_user_cannot_stop_an_impersonation_it_did_not_start(factory, login_as):
    assert login_as(factory.user()).post("/admin/impersonation/stop").status_code == 403
