"""api clients: OAuth clients owned by a user for API v1; events done through the API

API clients are credentials of kind "api" (no authorization: their tokens carry no
authorization_id), named by their owner. Events get `via` ("api" for the API, null for the web).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=100), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_credentials_created_by_id"), ["created_by_id"], unique=False
        )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.alter_column("authorization_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("via")
    op.execute(
        "DELETE FROM access_tokens WHERE credential_id IN "
        "(SELECT id FROM credentials WHERE kind = 'api')"
    )
    op.execute("DELETE FROM credentials WHERE kind = 'api'")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.alter_column("authorization_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_created_by_id"))
        batch_op.drop_column("name")
