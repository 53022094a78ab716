"""A seeded world for the security tests: two organisations (A, B), two definitions (X =
api_particulier, Y = api_entreprise), one user per role, and objects of each kind — the
applicant's own (A on X), another organisation's (B on X), another definition's (A on Y).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from flask import Flask
from werkzeug.datastructures import FileStorage

from datapass.extensions import db
from tests.factories import Factory

X, Y = "api_particulier", "api_entreprise"
ROLES = (
    "anonymous",
    "applicant_a",
    "applicant_b",
    "reporter_x",
    "instructor_x",
    "manager_x",
    "instructor_y",
    "developer_x",
    "admin",
)
OBJECTS = ("own", "other_org", "other_def")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    app: Flask
    users: dict[str, int]
    objects: dict[str, dict[str, object]] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def client(self, role: str, *, fresh: bool = False):
        """A test client carrying `role`'s session cookie (none for anonymous); `fresh`: a new
        sign-in, for the calls that end the session (sign-out ends all of the user's)."""
        client = self.app.test_client()
        if role != "anonymous":
            cookie = _sign_in(self.app, self.emails[role]) if fresh else self.cookies[role]
            client.set_cookie("session", cookie, domain="localhost")
        return client


def _sign_in(app: Flask, email: str) -> str:
    client = app.test_client()
    response = client.post("/login", data={"email": email})
    assert response.status_code == 302, response.data
    return client.get_cookie("session", domain="localhost").value


def _request_with_document(app, factory, applicant, org, definition, *, state):
    """A request with one PDF, brought to `state` ("submitted" or "validated")."""
    from datapass.accounts.models import User
    from datapass.authorizations.models import Authorization
    from datapass.lifecycle import services
    from datapass.requests.models import AuthorizationRequest

    request_id = factory.request(applicant, org, definition_id=definition)
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        user = db.session.get(User, applicant)
        upload = FileStorage(io.BytesIO(PDF), filename="cadre juridique.pdf")
        (document,) = services.add_documents(request_obj, user, [upload])
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        db.session.commit()
        document_id = document.id
        authorization_id = None
        if state == "validated":
            instructor = User(
                email=f"decideur.{request_id}@example.gouv.fr",
                given_name="Décideur",
                family_name="Test",
            )
            from datapass.accounts.models import Role

            instructor.roles = [Role(role="instructor", definition_id=definition)]
            db.session.add(instructor)
            services.approve_request(request_obj, instructor, "Validée.")
            db.session.commit()
            authorization_id = db.session.scalar(
                db.select(Authorization.id).filter_by(request_id=request_id)
            )
    return request_id, document_id, authorization_id


def build_world(app: Flask) -> World:
    from datapass.accounts.models import Membership, Role, User
    from datapass.developers.services import create_api_client
    from datapass.instruction.tools import save_template
    from datapass.notifications.models import Webhook
    from datapass.notifications.webhooks import encrypt_secret, new_secret
    from datapass.oauth.services import issue_producer_credential

    factory = Factory(app)
    org_a, org_b = factory.organization("Commune A"), factory.organization("Commune B")
    users = {
        "applicant_a": factory.user(organizations=(org_a,)),
        "applicant_b": factory.user(organizations=(org_b,)),
        "reporter_x": factory.user(roles=(("reporter", X),)),
        "instructor_x": factory.user(roles=(("instructor", X),)),
        "manager_x": factory.user(roles=(("manager", X),)),
        "instructor_y": factory.user(roles=(("instructor", Y),)),
        "developer_x": factory.user(roles=(("developer", X),)),
        "admin": factory.user(admin=True),
    }
    targets = {  # users that admin pages act upon, never signed in here
        "own": factory.user(organizations=(org_a,), roles=(("reporter", X),)),
        "other_org": factory.user(organizations=(org_b,), roles=(("reporter", X),)),
        "other_def": factory.user(organizations=(org_a,), roles=(("reporter", Y),)),
    }
    world = World(app, users)
    placement = {"own": (org_a, X, "applicant_a"), "other_org": (org_b, X, "applicant_b")}
    placement["other_def"] = (org_a, Y, "applicant_a")
    for name, (org, definition, applicant) in placement.items():
        request_id, document_id, _ = _request_with_document(
            app, factory, users[applicant], org, definition, state="submitted"
        )
        _, _, authorization_id = _request_with_document(
            app, factory, users[applicant], org, definition, state="validated"
        )
        with app.app_context():
            developer = User(
                email=f"dev.{name}@example.gouv.fr", given_name="Dev", family_name=name
            )
            developer.roles = [Role(role="developer", definition_id=definition)]
            db.session.add(developer)
            db.session.flush()
            owner = developer if name != "own" else db.session.get(User, users["developer_x"])
            api_client, _ = create_api_client(owner, "Client", ["read_requests"])
            producer, _ = issue_producer_credential(definition, owner)
            webhook = Webhook(
                definition_id=definition,
                url="https://hooks.example.org/datapass",
                events=["submit"],
                secret_encrypted=encrypt_secret(new_secret()),
                created_by_id=owner.id,
            )
            db.session.add(webhook)
            manager = User(
                email=f"manager.{name}@example.gouv.fr", given_name="Resp", family_name=name
            )
            manager.roles = [Role(role="manager", definition_id=definition)]
            db.session.add(manager)
            db.session.flush()
            template = save_template(manager, definition, f"Modèle {name}", "Bonjour,\n\nMerci.")
            target = targets[name]
            membership_id = db.session.scalar(db.select(Membership.id).filter_by(user_id=target))
            role_id = db.session.scalar(db.select(Role.id).filter_by(user_id=target))
            db.session.commit()
            world.objects[name] = {
                "request_id": request_id,
                "document_id": document_id,
                "authorization_id": authorization_id,
                "definition_id": definition,
                "user_id": target,
                "membership_id": membership_id,
                "role_id": role_id,
                "api_client_id": api_client.id,
                "producer_credential_id": producer.id,
                "webhook_id": webhook.id,
                "template_id": template.id,
                "block_key": "basic_infos",
                "name": "absent.eml",
                "token": "jeton-invalide",
                "anything": "nulle-part",
            }
    with app.app_context():
        emails = {role: db.session.get(User, uid).email for role, uid in users.items()}
    world.emails = emails
    world.cookies = {role: _sign_in(app, email) for role, email in emails.items()}
    return world
