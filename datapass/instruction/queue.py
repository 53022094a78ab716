"""The instructors' queue at scale: filters, search, keyset pagination, capped counts, CSV.

Pages are cut by *keyset* (the sort column and the id of the last row shown), never by OFFSET:
page 40,000 costs what page 1 costs. Counts stop at COUNT_CAP for the same reason.
Search uses PostgreSQL's full-text index (French) over the title and description, and trigram
indexes over organisation names and applicant emails (migration 0007); elsewhere (SQLite, the
embedded default) a LIKE over the same fields.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, func, literal_column, or_, select, tuple_

from datapass.accounts.models import Organization, User
from datapass.catalog import all_definitions
from datapass.extensions import db
from datapass.instruction.reads import has_unread_messages
from datapass.requests.models import STATE_LABELS, AuthorizationRequest

PER_PAGE = 25
COUNT_CAP = 1_000
EXPORT_CAP = 50_000
ID_SEARCH = re.compile(r"^\s*(?:[dD]|#|n°\s*)?(\d{1,12})\s*$")
SIRET_SEARCH = re.compile(r"^\s*(\d{3}\s?\d{3}\s?\d{3}\s?\d{5})\s*$")
# Filled by PostgreSQL (a generated column with a GIN index, migration 0007), not mapped.
SEARCH_VECTOR = literal_column("authorization_requests.search_vector")

R = AuthorizationRequest
# sort key: (column, descending, column may be null)
SORTS = {
    "updated_desc": (R.updated_at, True, False),
    "submitted_asc": (R.submitted_at, False, True),
    "created_desc": (R.created_at, True, False),
}


@dataclass(frozen=True)
class Filters:
    q: str = ""
    state: str = ""
    definition: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    unread: bool = False
    sort: str = "updated_desc"


@dataclass
class Page:
    rows: list[AuthorizationRequest]
    next_cursor: str | None
    prev_cursor: str | None


class BadCursor(ValueError):
    pass


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _search(query: Select, text: str) -> Select:
    match = ID_SEARCH.match(text)
    if match:
        return query.where(R.id == int(match.group(1)))
    siret = SIRET_SEARCH.match(text)
    if siret:
        org_ids = select(Organization.id).where(
            Organization.siret == siret.group(1).replace(" ", "")
        )
        return query.where(R.organization_id.in_(org_ids))
    text = text.strip()
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    if "@" in text:  # an email, or its start: only the applicants' emails
        user_ids = select(User.id).where(User.email.ilike(pattern, escape="\\"))
        return query.where(R.applicant_id.in_(user_ids))
    if _dialect() == "postgresql":
        # Each arm has an index (GIN full-text, btree on the ids of the trigram matches): the
        # planner ORs bitmaps for rare words, or walks the sort index for common ones.
        org_ids = select(Organization.id).where(Organization.name.ilike(pattern, escape="\\"))
        user_ids = select(User.id).where(User.email.ilike(pattern, escape="\\"))
        return query.where(
            or_(
                SEARCH_VECTOR.op("@@")(func.websearch_to_tsquery("french", text)),
                R.organization_id == func.any(func.array(org_ids.scalar_subquery())),
                R.applicant_id == func.any(func.array(user_ids.scalar_subquery())),
            )
        )
    org_ids = select(Organization.id).where(
        func.lower(Organization.name).like(pattern, escape="\\")
    )
    user_ids = select(User.id).where(func.lower(User.email).like(pattern, escape="\\"))
    return query.where(
        or_(
            func.lower(R.data["intitule"].as_string()).like(pattern, escape="\\"),
            func.lower(R.data["description"].as_string()).like(pattern, escape="\\"),
            R.organization_id.in_(org_ids),
            R.applicant_id.in_(user_ids),
        )
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered(query: Select, filters: Filters, user_id: int) -> Select:
    """`query` (the user's visible requests) narrowed by the queue's filters."""
    if filters.state:
        query = query.where(R.state == filters.state)
    else:
        # Drafts belong to applicants until submitted; archived ones are out of the way.
        query = query.where(R.state.not_in(("draft", "archived")))
    if filters.definition:
        query = query.where(R.definition_id == filters.definition)
    if filters.submitted_from:
        query = query.where(R.submitted_at >= _day_start(filters.submitted_from))
    if filters.submitted_to:
        query = query.where(R.submitted_at < _day_start(filters.submitted_to + timedelta(days=1)))
    if filters.unread:
        query = query.where(has_unread_messages(user_id))
    if filters.q:
        query = _search(query, filters.q)
    return query


def capped_count(query: Select, cap: int = COUNT_CAP) -> int:
    """How many rows `query` has, counting no further than cap + 1."""
    limited = query.with_only_columns(R.id).order_by(None).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(limited))


def _encode(row: AuthorizationRequest, column) -> str:
    value = getattr(row, column.key)
    return f"{value.isoformat() if value else '-'}_{row.id}"


def _decode(cursor: str) -> tuple[datetime | None, int]:
    try:
        raw_value, raw_id = cursor.rsplit("_", 1)
        value = None if raw_value == "-" else datetime.fromisoformat(raw_value)
        if value is not None and value.tzinfo is None:
            raise ValueError
        return value, int(raw_id)
    except ValueError:
        raise BadCursor(cursor) from None


def _after(column, descending: bool, nullable: bool, value, last_id: int):
    """Rows after (value, last_id) in the order `column` (desc or asc, nulls last), id."""
    if value is None:  # already among the nulls, which come last
        return and_(column.is_(None), R.id < last_id if descending else R.id > last_id)
    key = tuple_(column, R.id)
    condition = key < tuple_(value, last_id) if descending else key > tuple_(value, last_id)
    return or_(condition, column.is_(None)) if nullable else condition


def _before(column, descending: bool, nullable: bool, value, last_id: int):
    """Rows before (value, last_id) in that same order."""
    key = tuple_(column, R.id)
    if value is None:
        among_nulls = and_(column.is_(None), R.id > last_id if descending else R.id < last_id)
        return or_(among_nulls, column.is_not(None))
    return key > tuple_(value, last_id) if descending else key < tuple_(value, last_id)


def _order(column, descending: bool, nullable: bool, reverse: bool = False):
    """ORDER BY of a sort (nulls last), or its reverse to walk backwards from a cursor.

    NULLS clauses only on a nullable column: on the others they would stop PostgreSQL from
    reading the (column, id) index in order.
    """
    desc = descending != reverse
    ordered = column.desc() if desc else column.asc()
    if nullable:
        ordered = ordered.nulls_first() if reverse else ordered.nulls_last()
    return ordered, R.id.desc() if desc else R.id.asc()


def _sort_key(column, filters: Filters | None):
    """The sort column, hidden from PostgreSQL's planner under a submission-date range.

    Dates move together (a request is updated after it is submitted), which the planner cannot
    know: it would walk the whole sort index back to the range. Hidden, it fetches the range by
    its index and sorts it (a bounded set: one period's requests).
    """
    if filters and (filters.submitted_from or filters.submitted_to) and _dialect() == "postgresql":
        return func.coalesce(column, column)
    return column


def page(
    query: Select,
    sort: str,
    after: str | None = None,
    before: str | None = None,
    filters: Filters | None = None,
) -> Page:
    """One page of `query` in `sort` order, after or before a cursor (BadCursor if malformed)."""
    column, descending, nullable = SORTS.get(sort, SORTS["updated_desc"])
    key = _sort_key(column, filters)
    if before:
        value, last_id = _decode(before)
        rows = list(
            db.session.scalars(
                query.where(_before(key, descending, nullable, value, last_id))
                .order_by(*_order(key, descending, nullable, reverse=True))
                .limit(PER_PAGE + 1)
            ).unique()
        )
        more = len(rows) > PER_PAGE
        rows = list(reversed(rows[:PER_PAGE]))
        return Page(
            rows,
            next_cursor=_encode(rows[-1], column) if rows else None,
            prev_cursor=_encode(rows[0], column) if more and rows else None,
        )
    if after:
        value, last_id = _decode(after)
        query = query.where(_after(key, descending, nullable, value, last_id))
    rows = list(
        db.session.scalars(
            query.order_by(*_order(key, descending, nullable)).limit(PER_PAGE + 1)
        ).unique()
    )
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    return Page(
        rows,
        next_cursor=_encode(rows[-1], column) if more else None,
        prev_cursor=_encode(rows[0], column) if after and rows else None,
    )


def export_rows(query: Select, sort: str, filters: Filters | None = None) -> list[tuple]:
    """The selection as plain tuples in sort order (EXPORT_CAP rows at most, see capped_count).

    (id, title, definition id, organisation, SIRET, applicant email, state, submitted, updated)
    """
    column, descending, nullable = SORTS.get(sort, SORTS["updated_desc"])
    columns = query.join(Organization, Organization.id == R.organization_id).join(
        User, User.id == R.applicant_id
    )
    columns = columns.with_only_columns(
        R.id,
        R.data["intitule"].as_string(),
        R.definition_id,
        Organization.name,
        Organization.siret,
        User.email,
        R.state,
        R.submitted_at,
        R.updated_at,
    )
    key = _sort_key(column, filters)
    ordered = columns.order_by(*_order(key, descending, nullable)).limit(EXPORT_CAP)
    return list(db.session.execute(ordered))


EXPORT_HEADER = [
    "numero",
    "intitule",
    "api",
    "organisation",
    "siret",
    "demandeur",
    "etat",
    "deposee_le",
    "mise_a_jour_le",
]


def _cell(value: str) -> str:
    """Text typed by applicants, made inert for spreadsheets (no formula: OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def selection_csv(query: Select, filters: Filters) -> str:
    """The selection as CSV text, one line per request, in the queue's order."""
    definitions = all_definitions()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    for id_, title, definition_id, org, siret, email, state, submitted, updated in export_rows(
        query, filters.sort, filters
    ):
        definition = definitions.get(definition_id)
        writer.writerow(
            [
                id_,
                _cell(title or ""),
                definition.name if definition else definition_id,
                _cell(org),
                siret,
                _cell(email),
                STATE_LABELS.get(state, state),
                submitted.isoformat() if submitted else "",
                updated.isoformat(),
            ]
        )
    return out.getvalue()
