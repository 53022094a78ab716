"""The public statistics, computed from the audit trail (Event) alone.

Definitions used on the page and in the CSV:

- *submitted*: requests submitted for the first time that month (resubmissions after requested
  changes are not new requests);
- *validated*, *refused*, *reopened*: "approve", "refuse" and "reopen" events of the month;
- *backlog*: requests waiting for an instructor ("submitted" state) at the end of the month,
  rebuilt from every event entering or leaving that state;
- *time to first instruction*: from a request's first submission to the first instructor
  decision (changes requested, refused or validated); *time to decision*: to the first refusal
  or validation. Both are attributed to the month that ends them, in days.

Months are calendar months in UTC.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, case, func, select, text

from datapass.extensions import db
from datapass.lifecycle.models import Event
from datapass.requests.models import AuthorizationRequest

INSTRUCTION_EVENTS = ("request_changes", "refuse", "approve")
DECISION_EVENTS = ("refuse", "approve")
COUNTED_EVENTS = {"approve": "validated", "refuse": "refused", "reopen": "reopened"}
SERIES = ("submitted", "validated", "refused", "reopened")


@dataclass(frozen=True)
class Scope:
    """What a statistics page covers: some definitions (None: all) over months start..end."""

    definition_ids: tuple[str, ...] | None
    start: date  # first day of the first month
    end: date  # first day of the last month (included)

    @property
    def months(self) -> list[str]:
        months, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


@dataclass
class Durations:
    """Median and 90th percentile, in days, of a list of durations."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, days: list[float]) -> Durations:
        if not days:
            return cls()
        if len(days) == 1:
            return cls(1, days[0], days[0])
        # "inclusive": the 90th percentile stays within the observed values.
        p90 = statistics.quantiles(days, n=10, method="inclusive")[8]
        return cls(len(days), statistics.median(days), p90)


@dataclass
class MonthFigures:
    month: str
    submitted: int = 0
    validated: int = 0
    refused: int = 0
    reopened: int = 0
    backlog: int = 0
    first_instruction: Durations = field(default_factory=Durations)
    decision: Durations = field(default_factory=Durations)


@dataclass
class Figures:
    months: list[MonthFigures]
    totals: dict[str, int]
    first_instruction: Durations
    decision: Durations
    computed_at: datetime


def _month_of(column):
    """'YYYY-MM' of a UTC datetime column, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    # SQLite stores UTC datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (see UTCDateTime).
    return func.substr(column, 1, 7)


def _restrict(query, scope: Scope):
    if scope.definition_ids is None:
        return query
    return query.join(AuthorizationRequest, AuthorizationRequest.id == Event.request_id).where(
        AuthorizationRequest.definition_id.in_(scope.definition_ids)
    )


def _month_start(month: str) -> datetime:
    year, number = month.split("-")
    return datetime(int(year), int(number), 1, tzinfo=UTC)


def _after(month: str) -> datetime:
    year, number = (int(x) for x in month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=UTC)


def _event_counts(scope: Scope, rows: dict[str, MonthFigures]) -> None:
    month = _month_of(Event.created_at).label("month")
    months = scope.months
    query = _restrict(
        select(month, Event.name, func.count())
        .where(Event.name.in_(tuple(COUNTED_EVENTS)))
        .where(Event.created_at >= _month_start(months[0]), Event.created_at < _after(months[-1]))
        .group_by(month, Event.name),
        scope,
    )
    for key, name, count in db.session.execute(query):
        if key in rows:
            setattr(rows[key], COUNTED_EVENTS[name], count)


def _backlog(scope: Scope, rows: dict[str, MonthFigures]) -> None:
    month = _month_of(Event.created_at).label("month")
    delta = func.sum(
        case((Event.to_state == "submitted", 1), else_=0)
        - case((Event.from_state == "submitted", 1), else_=0)
    )
    query = _restrict(
        select(month, delta)
        .where((Event.to_state == "submitted") | (Event.from_state == "submitted"))
        .where(Event.request_id.is_not(None), Event.authorization_id.is_(None))
        .where(Event.created_at < _after(scope.months[-1]))
        .group_by(month),
        scope,
    )
    level, changes = 0, dict(db.session.execute(query).all())
    for key in sorted(changes):
        if key < scope.months[0]:
            level += changes[key] or 0
    for key in scope.months:
        level += changes.get(key) or 0
        rows[key].backlog = level


def _durations(scope: Scope, rows: dict[str, MonthFigures]) -> tuple[Durations, Durations]:
    """First submission, first instruction and first decision per request, as one scan."""

    def first(names):
        return func.min(case((Event.name.in_(names), Event.created_at)))

    start, stop = _month_start(scope.months[0]), _after(scope.months[-1])

    query = _restrict(
        select(
            first(("submit",)).label("submitted"),
            first(INSTRUCTION_EVENTS).label("instructed"),
            first(DECISION_EVENTS).label("decided"),
        )
        .where(Event.name.in_(("submit", *INSTRUCTION_EVENTS)), Event.request_id.is_not(None))
        .group_by(Event.request_id)
        # Only the requests with something in the period travel to Python.
        .having(func.max(Event.created_at) >= start, func.min(Event.created_at) < stop),
        scope,
    )
    per_month = {key: ([], []) for key in rows}
    for submitted, instructed, decided in db.session.execute(query):
        submitted, instructed, decided = (_aware(v) for v in (submitted, instructed, decided))
        if submitted is None:
            continue
        if start <= submitted < stop:
            rows[submitted.strftime("%Y-%m")].submitted += 1
        for index, moment in enumerate((instructed, decided)):
            if moment is not None and start <= moment < stop:
                days = (moment - submitted).total_seconds() / 86400
                per_month[moment.strftime("%Y-%m")][index].append(days)
    every = ([], [])
    for key, (instructed, decided) in per_month.items():
        rows[key].first_instruction = Durations.of(instructed)
        rows[key].decision = Durations.of(decided)
        every[0].extend(instructed)
        every[1].extend(decided)
    return Durations.of(every[0]), Durations.of(every[1])


# PostgreSQL: the same figures as _durations, aggregated in the database (medians and 90th
# percentiles with percentile_cont) so that only a few rows per month come back.
_DURATIONS_POSTGRESQL = """
WITH per_request AS (
  SELECT e.request_id,
         min(e.created_at) FILTER (WHERE e.name = 'submit') AS submitted,
         min(e.created_at) FILTER (WHERE e.name IN ('request_changes', 'refuse', 'approve'))
           AS instructed,
         min(e.created_at) FILTER (WHERE e.name IN ('refuse', 'approve')) AS decided
  FROM events e {join}
  WHERE e.name IN ('submit', 'request_changes', 'refuse', 'approve')
    -- only requests with one of these events in the period (index on name, created_at)
    AND e.request_id IN (
      SELECT request_id FROM events
      WHERE name IN ('submit', 'request_changes', 'refuse', 'approve')
        AND created_at >= :start AND created_at < :stop
    )
  GROUP BY e.request_id
), facts AS (
  SELECT 'submitted' AS kind, submitted AS at, NULL::float8 AS days FROM per_request
  UNION ALL
  SELECT 'instructed', instructed, extract(epoch FROM instructed - submitted) / 86400
  FROM per_request WHERE instructed IS NOT NULL AND submitted IS NOT NULL
  UNION ALL
  SELECT 'decided', decided, extract(epoch FROM decided - submitted) / 86400
  FROM per_request WHERE decided IS NOT NULL AND submitted IS NOT NULL
)
SELECT kind, to_char(timezone('UTC', at), 'YYYY-MM') AS month, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY days)
FROM facts
WHERE at >= :start AND at < :stop
GROUP BY GROUPING SETS ((kind, month), (kind))
"""


def _durations_postgresql(scope: Scope, rows: dict[str, MonthFigures]):
    join, params = "", {}
    if scope.definition_ids is not None:
        join = (
            "JOIN authorization_requests r ON r.id = e.request_id "
            "AND r.definition_id IN :definition_ids"
        )
        params["definition_ids"] = list(scope.definition_ids)
    query = text(_DURATIONS_POSTGRESQL.format(join=join))
    if params:
        query = query.bindparams(bindparam("definition_ids", expanding=True))
    start, stop = _month_start(scope.months[0]), _after(scope.months[-1])
    overall = {"instructed": Durations(), "decided": Durations()}
    for kind, month, count, median, p90 in db.session.execute(
        query, {"start": start, "stop": stop, **params}
    ):
        if kind == "submitted":
            if month is not None:
                rows[month].submitted = count
            continue
        durations = Durations(count, median, p90)
        if month is None:
            overall[kind] = durations
        elif kind == "instructed":
            rows[month].first_instruction = durations
        else:
            rows[month].decision = durations
    return overall["instructed"], overall["decided"]


def _aware(value):
    """Aggregates (MIN) bypass the column type: SQLite gives strings, PostgreSQL datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def compute_figures(scope: Scope) -> Figures:
    """Every figure of the statistics page for `scope` (a few grouped scans of `events`)."""
    rows = {key: MonthFigures(key) for key in scope.months}
    _event_counts(scope, rows)
    _backlog(scope, rows)
    if db.session.get_bind().dialect.name == "postgresql":
        first_instruction, decision = _durations_postgresql(scope, rows)
    else:
        first_instruction, decision = _durations(scope, rows)
    months = [rows[key] for key in scope.months]
    totals = {name: sum(getattr(m, name) for m in months) for name in SERIES}
    return Figures(months, totals, first_instruction, decision, datetime.now(UTC))
