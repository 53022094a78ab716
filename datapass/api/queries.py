"""What an API client lists: the owner's scope from datapass.access, filters, cursor pages."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, false, func, or_, select

from datapass import access
from datapass.accounts.models import Membership, Organization, User
from datapass.api.problems import field_error, validation_problem
from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.requests.models import AuthorizationRequest

MAX_LIMIT = 100
MAX_ID = 2**31 - 1  # ids are INTEGER columns (32 bits on PostgreSQL)


def visible_requests(user: User) -> Select:
    """Requests the user sees from either side: its organisations' and its definitions'."""
    ids = AuthorizationRequest.id
    return select(AuthorizationRequest).where(
        or_(
            ids.in_(access.applicant_requests(user).with_only_columns(ids)),
            ids.in_(access.staff_requests(user).with_only_columns(ids)),
        )
    )


def visible_authorizations(user: User) -> Select:
    """Authorizations the user sees, by the rule of access.authorization_or_404."""
    member_orgs = select(Membership.organization_id).where(Membership.user_id == user.id)
    definition_ids = user.definitions_with("reporter")
    if definition_ids is None:
        return select(Authorization)
    staff = Authorization.definition_id.in_(definition_ids) if definition_ids else false()
    return select(Authorization).where(or_(Authorization.organization_id.in_(member_orgs), staff))


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix != "id":
            raise ValueError(cursor)
        last_id = int(value)
        if not 0 < last_id <= MAX_ID:
            raise ValueError(cursor)
        return last_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise validation_problem([field_error("query.cursor", "Curseur invalide.")]) from exc


def parse_datetime(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise validation_problem(
            [field_error(field, "Date ISO 8601 attendue, par exemple 2026-11-30T08:00:00Z.")]
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_limit(args) -> int:
    raw = args.get("limit", "25")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise validation_problem(
            [field_error("query.limit", f"Un entier entre 1 et {MAX_LIMIT} est attendu.")]
        )
    return int(raw)


def filter_by_siret(query: Select, model, siret: str) -> Select:
    return query.join(Organization, model.organization_id == Organization.id).where(
        Organization.siret == siret
    )


def page(query: Select, model, args, serialize) -> dict[str, Any]:
    """Newest first, `limit` per page; `next_cursor` continues after the last item, `total`
    counts every item matching the filters (not only those after the cursor)."""
    limit = parse_limit(args)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    if args.get("cursor"):
        query = query.where(model.id < _decode_cursor(args["cursor"]))
    rows = db.session.scalars(query.order_by(model.id.desc()).limit(limit + 1)).unique().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [serialize(row) for row in rows],
        "total": total,
        "next_cursor": encode_cursor(rows[-1].id) if more else None,
    }


def filter_list(query: Select, model, args, states) -> Select:
    """The state, definition and SIRET filters of the request and authorization lists; a
    validation problem naming every bad one."""
    from datapass.accounts.siret import InvalidSiret, normalize_siret
    from datapass.catalog import all_definitions

    errors = []
    if args.get("state"):
        if args["state"] not in states:
            errors.append(field_error("query.state", f"États : {', '.join(states)}."))
        query = query.where(model.state == args["state"])
    if args.get("definition"):
        if args["definition"] not in all_definitions():
            errors.append(field_error("query.definition", "Définition inconnue."))
        query = query.where(model.definition_id == args["definition"])
    if args.get("siret"):
        try:
            query = filter_by_siret(query, model, normalize_siret(args["siret"]))
        except InvalidSiret as error:
            errors.append(field_error("query.siret", str(error)))
    if errors:
        raise validation_problem(errors)
    return query
