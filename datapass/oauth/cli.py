"""`datapass rotate-signing-key`: a new current key; the previous one stays in the JWKS."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from datapass.extensions import db
from datapass.lifecycle.services import record_event
from datapass.oauth.keys import create_signing_key


@click.command("rotate-signing-key", help="Create a new signing key for access tokens.")
@with_appcontext
def rotate_signing_key() -> None:
    """Running workers pick the new key up within OAUTH_KEY_RELOAD_INTERVAL: no restart.

    Tokens signed with the previous key still verify (it stays published); the one before it
    is dropped, so space rotations by more than the longest token lifetime (24 h at most).
    """
    key = create_signing_key(Path(current_app.config["OAUTH_KEY_DIR"]))
    record_event("rotate_signing_key", None, reason=f"kid {key.kid}")
    db.session.commit()
    click.echo(f"New signing key {key.kid}; the previous key stays published in the JWKS.")
