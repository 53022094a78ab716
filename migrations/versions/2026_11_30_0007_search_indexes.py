"""search indexes: the instructors' queue at scale; per-user read markers of requests

- `request_reads`: when a user last opened a request, for the "unread messages" badge and filter;
- indexes matching the queue's sorts (keyset pagination: the sort column then the id) with and
  without a definition filter, the unread-message lookup and the statistics' event scans;
- on PostgreSQL only: full-text search over the request's title and description (French
  configuration): a stored generated `search_vector` column with a GIN index (stored, so that
  matching rows never recompute to_tsvector), and trigram indexes (pg_trgm) for organisation
  names and applicant emails searched with ILIKE '%…%'. SQLite keeps the LIKE fallback. The
  models do not map `search_vector`: the database fills it, the queue's search reads it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 01:00:00
"""

import sqlalchemy as sa
from alembic import op

import datapass.models_base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# What the queue's full-text search matches: the request's title and description.
SEARCH_DOCUMENT = (
    "to_tsvector('french'::regconfig, coalesce((data ->> 'intitule'), '') || ' ' || "
    "coalesce((data ->> 'description'), ''))"
)

INDEXES = [
    ("ix_authorization_requests_updated_at_id", "authorization_requests", ["updated_at", "id"]),
    ("ix_authorization_requests_created_at_id", "authorization_requests", ["created_at", "id"]),
    ("ix_authorization_requests_submitted_at_id", "authorization_requests", ["submitted_at", "id"]),
    (
        "ix_authorization_requests_definition_updated_at_id",
        "authorization_requests",
        ["definition_id", "updated_at", "id"],
    ),
    (
        "ix_authorization_requests_definition_submitted_at_id",
        "authorization_requests",
        ["definition_id", "submitted_at", "id"],
    ),
    (
        "ix_authorization_requests_state_updated_at_id",
        "authorization_requests",
        ["state", "updated_at", "id"],
    ),
    ("ix_messages_request_id_created_at", "messages", ["request_id", "created_at"]),
    ("ix_events_name_created_at", "events", ["name", "created_at"]),
]


def upgrade() -> None:
    op.create_table(
        "request_reads",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("read_at", datapass.models_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_request_reads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["authorization_requests.id"],
            name=op.f("fk_request_reads_request_id_authorization_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "request_id", name=op.f("pk_request_reads")),
    )
    op.create_index("ix_request_reads_request_id", "request_reads", ["request_id"])
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "ALTER TABLE authorization_requests ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({SEARCH_DOCUMENT}) STORED"
    )
    op.execute(
        "CREATE INDEX ix_authorization_requests_search ON authorization_requests "
        "USING gin (search_vector)"
    )
    op.execute(
        "CREATE INDEX ix_organizations_name_trgm ON organizations USING gin (name gin_trgm_ops)"
    )
    op.execute("CREATE INDEX ix_users_email_trgm ON users USING gin (email gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_users_email_trgm")
        op.execute("DROP INDEX IF EXISTS ix_organizations_name_trgm")
        op.execute("DROP INDEX IF EXISTS ix_authorization_requests_search")
        op.execute("ALTER TABLE authorization_requests DROP COLUMN IF EXISTS search_vector")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_request_reads_request_id", table_name="request_reads")
    op.drop_table("request_reads")
