"""credentials: OAuth 2 clients bound to authorizations, and their access tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 22:45:00
"""

import sqlalchemy as sa
from alembic import op

import datapass.models_base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("definition_id", sa.String(length=100), nullable=False),
        sa.Column("authorization_id", sa.Integer(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "secret_created_at", datapass.models_base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("previous_secret_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "previous_secret_expires_at",
            datapass.models_base.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", datapass.models_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", datapass.models_base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", datapass.models_base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_credentials_authorization_id_authorizations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_credentials_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("client_id", name=op.f("uq_credentials_client_id")),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credentials_authorization_id"), ["authorization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credentials_definition_id"), ["definition_id"], unique=False
        )

    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("issued_at", datapass.models_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", datapass.models_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", datapass.models_base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_access_tokens_authorization_id_authorizations"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_access_tokens_credential_id_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("jti", name=op.f("uq_access_tokens_jti")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_tokens_token_hash")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_tokens_authorization_id"), ["authorization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_tokens_credential_id"), ["credential_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_tokens_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_expires_at"))
        batch_op.drop_index(batch_op.f("ix_access_tokens_credential_id"))
        batch_op.drop_index(batch_op.f("ix_access_tokens_authorization_id"))
    op.drop_table("access_tokens")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_definition_id"))
        batch_op.drop_index(batch_op.f("ix_credentials_authorization_id"))
    op.drop_table("credentials")
