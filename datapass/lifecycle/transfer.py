"""Handing a request over: to another member of its organisation (an agent leaves), or, by an
administrator, to another organisation. Its authorizations follow it, so does the management
of their credential; the previous and the new applicant are both told (notifications).
"""

from __future__ import annotations

from sqlalchemy import select

from datapass.accounts.models import Organization, User
from datapass.authorizations.models import Authorization
from datapass.catalog import get_definition
from datapass.errors import Conflict, DomainError, Forbidden
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.lifecycle.models import Event
from datapass.requests.models import AuthorizationRequest


def can_transfer(request_obj: AuthorizationRequest, user: User) -> bool:
    return (
        request_obj.state != "archived"
        and get_definition(request_obj.definition_id).features.transfer
        and (request_obj.applicant_id == user.id or user.is_admin)
    )


def transfer_request(
    request_obj: AuthorizationRequest,
    user: User,
    new_applicant: User,
    organization: Organization | None = None,
    reason: str | None = None,
) -> Event:
    """Make `new_applicant` the request's applicant (and, admins only, move its organisation)."""
    if not get_definition(request_obj.definition_id).features.transfer:
        raise Forbidden("Cette API ne permet pas de transférer ses demandes.")
    if not (request_obj.applicant_id == user.id or user.is_admin):
        raise Forbidden("Seul le demandeur (ou un administrateur) peut transférer la demande.")
    organization = organization or request_obj.organization
    if organization.id != request_obj.organization_id and not user.is_admin:
        raise Forbidden("Seul un administrateur peut confier la demande à une autre organisation.")
    if request_obj.state == "archived":
        raise Conflict("Une demande archivée ne peut pas être transférée.")
    if not new_applicant.is_member_of(organization.id):
        raise DomainError(
            f"{new_applicant.full_name} ({new_applicant.email}) n'est pas membre de "
            f"{organization.name}."
        )
    if (new_applicant.id, organization.id) == (
        request_obj.applicant_id,
        request_obj.organization_id,
    ):
        raise DomainError("La demande est déjà confiée à cette personne.")
    changes = {}
    if new_applicant.id != request_obj.applicant_id:
        changes["applicant_id"] = [request_obj.applicant_id, new_applicant.id]
        changes["applicant"] = [request_obj.applicant.email, new_applicant.email]
    if organization.id != request_obj.organization_id:
        changes["organization_id"] = [request_obj.organization_id, organization.id]
        changes["organization"] = [request_obj.organization.siret, organization.siret]
    request_obj.applicant = new_applicant
    request_obj.organization = organization
    for authorization in db.session.scalars(
        select(Authorization).where(Authorization.request_id == request_obj.id)
    ):
        authorization.applicant_id = new_applicant.id
        authorization.organization = organization
    services._flush()
    event = services.record_event(
        "transfer",
        user,
        request_obj=request_obj,
        reason=(reason or "").strip() or None,
        changes=changes,
    )
    services._flush()
    return event


def transfer_candidates(request_obj: AuthorizationRequest) -> list[User]:
    """Members of the request's organisation who could take it over."""
    from datapass.accounts.models import Membership

    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == request_obj.organization_id,
                User.id != request_obj.applicant_id,
            )
            .order_by(User.family_name, User.given_name)
        ).unique()
    )
