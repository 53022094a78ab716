"""Alembic environment bound to the datapass app (its config gives the database URL)."""

from __future__ import annotations

from alembic import context
from flask import current_app

from datapass import models  # noqa: F401 - registers every table on the metadata
from datapass.extensions import db

config = context.config


def _app():
    return config.attributes.get("app") or current_app._get_current_object()


def run_migrations_offline() -> None:
    context.configure(
        url=_app().config["SQLALCHEMY_DATABASE_URI"],
        target_metadata=db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with _app().app_context():
        engine = db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            # SQLite cannot ALTER most things: batch mode rebuilds tables there.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
