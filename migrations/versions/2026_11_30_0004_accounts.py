"""accounts: organisation details from the register, verified memberships, OIDC sign-in, bans

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:00:00

Only ADD/DROP COLUMN and indexes, no table rebuild: on SQLite (foreign keys enforced) a batch
rebuild of `users` fails as soon as rows reference it.
"""

import sqlalchemy as sa
from alembic import op

import datapass.models_base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = datapass.models_base.UTCDateTime(timezone=True)

COLUMNS = {
    "organizations": [
        sa.Column("legal_form", sa.String(length=255), nullable=False, server_default=""),
        sa.Column("address", sa.String(length=500), nullable=False, server_default=""),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("directory_refreshed_at", UTC, nullable=True),
    ],
    "memberships": [
        sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("verified_by", sa.String(length=20), nullable=True),
        sa.Column("verification_reason", sa.Text(), nullable=True),
        sa.Column("verified_at", UTC, nullable=True),
    ],
    "users": [
        sa.Column("oidc_sub", sa.String(length=255), nullable=True),
        sa.Column("last_acr", sa.String(length=100), nullable=True),
        sa.Column("last_amr", sa.JSON(), nullable=True),
        sa.Column("last_sign_in_at", UTC, nullable=True),
        sa.Column("current_organization_id", sa.Integer(), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("banned_at", UTC, nullable=True),
        sa.Column("ban_reason", sa.Text(), nullable=True),
    ],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.add_column(table, column)
    op.create_index(op.f("ix_users_oidc_sub"), "users", ["oidc_sub"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_users_oidc_sub"), table_name="users")
    for table, columns in COLUMNS.items():
        for column in reversed(columns):
            op.drop_column(table, column.name)
