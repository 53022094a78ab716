"""`datapass create-api-client`: an API client from the command line, for set-up scripts."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from datapass.accounts.models import User
from datapass.errors import DomainError
from datapass.extensions import db


@click.command("create-api-client", help="Create an API client (API v1) owned by a user.")
@click.option("--owner", "owner_email", required=True, help="Email of the owning user.")
@click.option(
    "--scopes",
    required=True,
    help="Space- or comma-separated: read_requests write_requests instruct "
    "read_authorizations manage_webhooks.",
)
@click.option("--name", default="Client en ligne de commande", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print client_id and client_secret as JSON.")
@with_appcontext
def create_api_client_command(owner_email: str, scopes: str, name: str, as_json: bool) -> None:
    from datapass.developers.services import create_api_client

    owner = db.session.scalar(
        select(User).where(func.lower(User.email) == owner_email.strip().lower())
    )
    if owner is None:
        raise click.ClickException(f"no user with email {owner_email!r}")
    try:
        credential, secret = create_api_client(owner, name, scopes.replace(",", " ").split())
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "client_id": credential.client_id,
                    "client_secret": secret,
                    "scopes": credential.scopes,
                    "owner": owner.email,
                }
            )
        )
    else:
        click.echo(f"client_id: {credential.client_id}\nclient_secret: {secret}")
        click.echo("The secret is shown only now: datapass keeps only its hash.")
