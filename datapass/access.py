"""Who may see what: the one query layer every page goes through.

An applicant sees the requests of its organisations; staff (reporter, instructor, manager) see the
requests of the definitions they hold a role on; an admin sees everything. An id outside that scope
is answered with 404, exactly as an id that does not exist.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, false, select

from datapass.accounts.models import Membership, User
from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.requests.models import AuthorizationRequest


def _member_org_ids(user: User):
    return select(Membership.organization_id).where(Membership.user_id == user.id)


def applicant_requests(user: User) -> Select:
    """Requests of the user's organisations."""
    return select(AuthorizationRequest).where(
        AuthorizationRequest.organization_id.in_(_member_org_ids(user))
    )


def current_organization_requests(user: User) -> Select:
    """Requests of the organisation the user currently acts for (the applicant's list)."""
    organization = user.current_organization
    if organization is None:
        return select(AuthorizationRequest).where(false())
    return applicant_requests(user).where(AuthorizationRequest.organization_id == organization.id)


def staff_requests(user: User, role: str = "reporter") -> Select:
    """Requests of the definitions on which the user holds `role` (or more)."""
    query = select(AuthorizationRequest)
    definition_ids = user.definitions_with(role)
    if definition_ids is None:
        return query
    if not definition_ids:
        return query.where(false())
    return query.where(AuthorizationRequest.definition_id.in_(definition_ids))


def applicant_request_or_404(user: User, request_id: int) -> AuthorizationRequest:
    query = applicant_requests(user).where(AuthorizationRequest.id == request_id)
    return db.session.scalars(query).first() or abort(404)


def staff_request_or_404(user: User, request_id: int, role: str = "reporter"):
    query = staff_requests(user, role).where(AuthorizationRequest.id == request_id)
    return db.session.scalars(query).first() or abort(404)


def any_request_or_404(user: User, request_id: int) -> AuthorizationRequest:
    """A request the user sees from either side (applicant or staff)."""
    request_obj = db.session.get(AuthorizationRequest, request_id)
    if request_obj is None or not (
        user.is_member_of(request_obj.organization_id)
        or user.has_role("reporter", request_obj.definition_id)
    ):
        abort(404)
    return request_obj


def authorization_or_404(user: User, authorization_id: int) -> Authorization:
    authorization = db.session.get(Authorization, authorization_id)
    if authorization is None or not (
        user.is_member_of(authorization.organization_id)
        or user.has_role("reporter", authorization.definition_id)
    ):
        abort(404)
    return authorization
