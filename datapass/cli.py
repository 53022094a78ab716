"""The `datapass` command: Flask's CLI plus database and demo-data commands."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from datapass.config import PROJECT_ROOT
from datapass.extensions import db


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["app"] = current_app._get_current_object()
    return config


def upgrade_database(revision: str = "heads") -> None:
    """Bring the schema to `revision` with Alembic (never create_all: migrations are the truth)."""
    command.upgrade(alembic_config(), revision)


@click.group("db", help="Database schema (Alembic migrations).")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Upgrade the schema to the latest revision.")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    upgrade_database(revision)
    click.echo(f"Database upgraded to {revision}.")


@db_group.command("current", help="Show the schema's current revision.")
@with_appcontext
def db_current() -> None:
    command.current(alembic_config())


@click.command("seed-demo", help="Create the demo organisations, accounts and requests (once).")
@with_appcontext
def seed_demo_command() -> None:
    from datapass.demo import seed_demo

    created = seed_demo()
    db.session.commit()
    click.echo("Demo data created." if created else "Demo data already present: nothing done.")


@click.command("list-users", help="List accounts with their organisations and roles.")
@with_appcontext
def list_users() -> None:
    from datapass.accounts.models import User

    for user in db.session.scalars(select(User).order_by(User.id)):
        orgs = ", ".join(o.siret for o in user.organizations) or "-"
        roles = ", ".join(f"{r.role}:{r.definition_id}" for r in user.roles) or "-"
        admin = " admin" if user.is_admin else ""
        click.echo(f"{user.email}\torgs={orgs}\troles={roles}{admin}")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(list_users)
    from datapass.oauth.cli import rotate_signing_key

    app.cli.add_command(rotate_signing_key)


def _create_app():
    from datapass import create_app

    return create_app()


def main() -> None:
    FlaskGroup(create_app=_create_app, help="datapass administration commands.")()
