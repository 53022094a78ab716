"""lifecycle: reopenings, request origins (copy, stage), reminders, message templates, notes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:00:00
"""

import sqlalchemy as sa
from alembic import op

import datapass.models_base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _dt(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, datapass.models_base.UTCDateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, target: str, ondelete: str | None = None):
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "reopenings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.Integer(), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        _dt("started_at", nullable=False),
        _dt("ended_at"),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("previous_data", sa.JSON(), nullable=False),
        sa.Column("previous_documents", sa.JSON(), nullable=False),
        sa.Column("previous_submitted_data", sa.JSON(), nullable=True),
        _fk("request_id", "reopenings", "authorization_requests", "CASCADE"),
        _fk("authorization_id", "reopenings", "authorizations"),
        _fk("started_by_id", "reopenings", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reopenings")),
    )
    op.create_index(op.f("ix_reopenings_request_id"), "reopenings", ["request_id"])
    op.create_table(
        "request_origins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("source_request_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        _dt("created_at", nullable=False),
        _fk("request_id", "request_origins", "authorization_requests", "CASCADE"),
        _fk("source_request_id", "request_origins", "authorization_requests", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_origins")),
        sa.UniqueConstraint("request_id", name=op.f("uq_request_origins_request_id")),
    )
    op.create_index(
        op.f("ix_request_origins_source_request_id"), "request_origins", ["source_request_id"]
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("authorization_id", sa.Integer(), nullable=True),
        _dt("sent_at", nullable=False),
        _fk("request_id", "reminders", "authorization_requests", "CASCADE"),
        _fk("authorization_id", "reminders", "authorizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    op.create_index(op.f("ix_reminders_request_id"), "reminders", ["request_id"])
    op.create_index(op.f("ix_reminders_authorization_id"), "reminders", ["authorization_id"])
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _dt("created_at", nullable=False),
        _dt("updated_at", nullable=False),
        _fk("created_by_id", "message_templates", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
    )
    op.create_index(
        op.f("ix_message_templates_definition_id"), "message_templates", ["definition_id"]
    )
    op.create_table(
        "instructor_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("opinion", sa.String(length=20), nullable=False),
        _dt("created_at", nullable=False),
        _fk("request_id", "instructor_notes", "authorization_requests", "CASCADE"),
        _fk("author_id", "instructor_notes", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructor_notes")),
    )
    op.create_index(op.f("ix_instructor_notes_request_id"), "instructor_notes", ["request_id"])


def downgrade() -> None:
    op.drop_table("instructor_notes")
    op.drop_table("message_templates")
    op.drop_table("reminders")
    op.drop_table("request_origins")
    op.drop_table("reopenings")
