"""The `datapass` command: Flask's CLI plus database and demo-data commands."""

from __future__ import annotations

import sys

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


@click.command("create-admin", help="Create an administrator account, or make an account admin.")
@click.argument("email")
@click.option("--given-name", default="", help="Given name (required for a new account).")
@click.option("--family-name", default="", help="Family name (required for a new account).")
@with_appcontext
def create_admin(email: str, given_name: str, family_name: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    from datapass.accounts.models import User
    from datapass.accounts.rights import record_audit

    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        if not given_name.strip() or not family_name.strip():
            raise click.UsageError("A new account needs --given-name and --family-name.")
        user = User(email=email, given_name=given_name.strip(), family_name=family_name.strip())
        db.session.add(user)
    elif user.is_admin:
        raise click.ClickException(f"{email} is already an administrator.")
    user.is_admin = True
    db.session.flush()
    record_audit("create_admin", None, user)
    db.session.commit()
    click.echo(f"{email} is now an administrator.")


@click.command("grant-role")
@click.argument("email")
@click.argument("role")
@click.argument("scope")
@with_appcontext
def grant_role_command(email: str, role: str, scope: str) -> None:
    """Give a user a role on a definition or a whole provider.

    ROLE: manager, instructor, reporter or developer. SCOPE: a definition id
    (e.g. api_particulier) or provider:<slug> (e.g. provider:dinum) for all of its definitions.
    """
    from datapass.accounts.models import User
    from datapass.accounts.rights import grant_role
    from datapass.errors import DomainError

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No account with the email {email}.")
    try:
        grant_role(None, user, role, scope)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"{email}: {role} on {scope}.")


@click.command("refresh-organizations")
@click.option("--force", is_flag=True, help="Refresh even those refreshed within the interval.")
@with_appcontext
def refresh_organizations(force: bool) -> None:
    """Refresh organisation details (name, address, legal form, closed) from the company register.

    Beat runs it daily; an organisation is asked about at most once per
    DATAPASS_DIRECTORY_REFRESH_INTERVAL.
    Exits with 1 if the register could not answer for some of them (their details are kept).
    """
    from datapass.accounts.directory import refresh_all

    refreshed, failures = refresh_all(force=force)
    for siret, reason in failures:
        click.echo(f"{siret}: {reason}", err=True)
    failed = len(failures)
    click.echo(f"{refreshed} organisation(s) refreshed, {failed} failed.")
    if failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(refresh_organizations)
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(list_users)
    app.cli.add_command(create_admin)
    app.cli.add_command(grant_role_command)
    from datapass.oauth.cli import rotate_signing_key

    app.cli.add_command(rotate_signing_key)
    from datapass.notifications.cli import outbox_group

    app.cli.add_command(outbox_group)
    from datapass.developers.cli import create_api_client_command

    app.cli.add_command(create_api_client_command)


def _create_app():
    from datapass import create_app

    return create_app()


def main() -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        FlaskGroup(create_app=_create_app, help="datapass administration commands.")()
    except (OperationalError, ProgrammingError) as error:
        # A database that is unreachable or not migrated: say so in one line, not a traceback.
        reason = str(error.orig).splitlines()[0] if error.orig else str(error)
        click.echo(
            f"datapass: database error ({reason}). Is DATAPASS_DATABASE_URL right, and the "
            "schema up to date (`datapass db upgrade`)?",
            err=True,
        )
        sys.exit(1)
