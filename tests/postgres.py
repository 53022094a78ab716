"""Throwaway PostgreSQL databases for the test command's PostgreSQL pass.

`server_url` is DATAPASS_TEST_DATABASE_URL: a SQLAlchemy URL of a maintenance database
(postgresql+psycopg://user@127.0.0.1:port/postgres) on a server the tests may create databases on.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


def url_of(server_url: str, name: str) -> str:
    """The SQLAlchemy URL of database `name` on the server of `server_url`."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL as libpq (psql, pg_dump, psycopg) reads it."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def _admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(libpq_url(server_url), autocommit=True)


def create_database(server_url: str, name: str, template: str | None = None) -> None:
    """CREATE DATABASE, copied from `template` (a file copy on the server: fast)."""
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with _admin(server_url) as connection:
        connection.execute(statement)


def drop_database(server_url: str, name: str) -> None:
    """DROP DATABASE, closing whatever connections a test left open."""
    with _admin(server_url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def empty_database(url: str) -> None:
    """Delete every row but the schema's revision and restart the sequences.

    Connections left by an earlier test are closed first, so that none holds a lock.
    """
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            )
        ]
        sequences = [
            row[0]
            for row in connection.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            )
        ]
        with connection.transaction():
            # Foreign keys are triggers: skipped in this transaction, so any order works.
            connection.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                connection.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            for sequence in sequences:
                connection.execute(
                    sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(sequence))
                )
