"""The queue pages by keyset: no OFFSET in any statement, however deep the page (not timed)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import Select, event
from sqlalchemy.dialects import postgresql

from datapass.extensions import db

ROW = re.compile(r'data-testid="queue-row-(\d+)"')
NEXT = re.compile(r'<a [^>]*href="([^"]+)"[^>]*data-testid="queue-next"')
PREV = re.compile(r'<a [^>]*href="([^"]+)"[^>]*data-testid="queue-prev"')


@pytest.fixture
def queue(app, factory, login_as):
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    ids = [factory.request(applicant, org, state="submitted") for _ in range(30)]
    instructor = factory.user(roles=(("instructor", "api_particulier"),))
    return ids, login_as(instructor)


class Statements:
    """Every SELECT the app runs while the block runs, compiled for PostgreSQL.

    Compiled for PostgreSQL (production) because SQLAlchemy's SQLite dialect writes a constant
    "OFFSET 0" after every LIMIT; any other OFFSET would show in both.
    """

    def __init__(self, app):
        self.app, self.seen = app, []

    def _record(self, conn, clauseelement, multiparams, params, execution_options):
        if isinstance(clauseelement, Select):
            self.seen.append(str(clauseelement.compile(dialect=postgresql.dialect())))

    def __enter__(self):
        with self.app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_execute", self._record)


def _link(pattern, page) -> str | None:
    match = pattern.search(page)
    return html.unescape(match.group(1)) if match else None


@pytest.mark.parametrize("sort", ["updated_desc", "submitted_asc", "created_desc"])
def test_pages_follow_by_cursor_without_offset(app, queue, sort):
    ids, client = queue
    with Statements(app) as statements:
        first = client.get("/instruction", query_string={"sort": sort}).get_data(as_text=True)
        first_ids = [int(i) for i in ROW.findall(first)]
        second_url = _link(NEXT, first)
        assert second_url and "after=" in second_url
        second = client.get(second_url).get_data(as_text=True)
        second_ids = [int(i) for i in ROW.findall(second)]
        assert _link(NEXT, second) is None  # the last page
        back = client.get(_link(PREV, second)).get_data(as_text=True)
    assert len(first_ids) == 25 and len(second_ids) == 5
    assert sorted(first_ids + second_ids) == sorted(ids)
    expected = sorted(ids) if sort == "submitted_asc" else sorted(ids, reverse=True)
    assert first_ids + second_ids == expected
    assert [int(i) for i in ROW.findall(back)] == first_ids
    assert _link(PREV, back) is None
    queue_sql = [s for s in statements.seen if "FROM authorization_requests" in s]
    assert queue_sql, statements.seen
    assert not [s for s in statements.seen if re.search(r"\bOFFSET\b", s, re.IGNORECASE)]
    # Each page is a bounded read: LIMIT page size + 1 (to know whether another page follows).
    assert any(re.search(r"\bLIMIT\b", s) for s in queue_sql)


def test_a_malformed_cursor_is_a_clear_error(queue):
    _, client = queue
    response = client.get("/instruction", query_string={"after": "pas-un-curseur"})
    assert response.status_code == 400
    assert "Lien de pagination invalide" in response.get_data(as_text=True)
