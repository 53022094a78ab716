"""Factories that build objects through the real services and return their ids.

Each call runs in its own app context and commits, as a user action would; tests read objects
back with `app.app_context()` and `db.session.get`.
"""

from __future__ import annotations

import itertools

from flask import Flask

from datapass.accounts.models import Membership, Organization, Role, User
from datapass.catalog import get_definition
from datapass.demo import complete_request_data
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.requests.models import AuthorizationRequest

_sequence = itertools.count(1)

# The moves that lead from a draft to each state, as (service, needs_instructor).
PATHS = {
    "draft": [],
    "submitted": ["submit"],
    "changes_requested": ["submit", "request_changes"],
    "refused": ["submit", "refuse"],
    "validated": ["submit", "approve"],
    "archived": ["archive"],
}


def _siret(n: int) -> str:
    """A 14-digit SIRET with a valid Luhn checksum."""
    body = f"{n:013d}"
    for check in range(10):
        digits = body + str(check)
        total = 0
        for i, c in enumerate(reversed(digits)):
            d = int(c) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


class Factory:
    def __init__(self, app: Flask):
        self.app = app

    def organization(self, name: str | None = None) -> int:
        n = next(_sequence)
        with self.app.app_context():
            org = Organization(siret=_siret(n), name=name or f"Commune n°{n}")
            db.session.add(org)
            db.session.commit()
            return org.id

    def user(
        self,
        *,
        organizations: tuple[int, ...] = (),
        roles: tuple[tuple[str, str], ...] = (),
        admin: bool = False,
        email: str | None = None,
    ) -> int:
        """A user, member of `organizations`, with `roles` as (role, definition_id) pairs."""
        n = next(_sequence)
        with self.app.app_context():
            user = User(
                email=email or f"user{n}@example.gouv.fr",
                given_name="Agent",
                family_name=f"Numéro {n}",
                job_title="Chargé de mission",
                phone_number="01 23 45 67 89",
                is_admin=admin,
            )
            user.memberships = [Membership(organization_id=o) for o in organizations]
            user.roles = [Role(role=r, definition_id=d) for r, d in roles]
            db.session.add(user)
            db.session.commit()
            return user.id

    def request(
        self,
        applicant_id: int,
        organization_id: int,
        *,
        definition_id: str = "api_particulier",
        state: str = "draft",
        complete: bool = True,
        instructor_id: int | None = None,
    ) -> int:
        """A request brought to `state` through the services, as users would."""
        with self.app.app_context():
            definition = get_definition(definition_id)
            applicant = db.session.get(User, applicant_id)
            organization = db.session.get(Organization, organization_id)
            request_obj = services.start_request(applicant, definition, organization)
            if complete:
                services.save_step(
                    request_obj, applicant, complete_request_data(definition, applicant)
                )
            instructor = None
            if instructor_id is None and state not in ("draft", "submitted", "archived"):
                instructor = User(
                    email=f"instructeur{next(_sequence)}@example.gouv.fr",
                    given_name="Instructeur",
                    family_name="Factory",
                    roles=[Role(role="instructor", definition_id=definition_id)],
                )
                db.session.add(instructor)
            elif instructor_id is not None:
                instructor = db.session.get(User, instructor_id)
            for move in PATHS[state]:
                if move == "submit":
                    services.submit_request(
                        request_obj, applicant, terms_accepted=True, dpo_informed=True
                    )
                elif move == "archive":
                    services.archive_request(request_obj, applicant)
                elif move == "approve":
                    services.approve_request(request_obj, instructor, "Validée.")
                elif move == "refuse":
                    services.refuse_request(request_obj, instructor, "Cadre juridique absent.")
                elif move == "request_changes":
                    services.request_changes(request_obj, instructor, "Précisez la durée.")
            db.session.commit()
            return request_obj.id

    def get_request(self, request_id: int) -> AuthorizationRequest:
        """The request, loaded in a throwaway context (attributes already loaded)."""
        with self.app.app_context():
            request_obj = db.session.get(AuthorizationRequest, request_id)
            db.session.expunge(request_obj)
            return request_obj
