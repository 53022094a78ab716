"""`datapass outbox`: see and replay notifications from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from datapass.extensions import db
from datapass.notifications import delivery
from datapass.notifications.models import FAILED, OutboxMessage
from datapass.notifications.outbox import kick


@click.group("outbox", help="Notifications waiting, sent or failed (the transactional outbox).")
def outbox_group() -> None:
    pass


@outbox_group.command("status", help="Count outbox rows by state.")
@with_appcontext
def status() -> None:
    rows = db.session.execute(
        select(OutboxMessage.state, func.count(OutboxMessage.id)).group_by(OutboxMessage.state)
    )
    for state, count in rows:
        click.echo(f"{state}\t{count}")


@outbox_group.command("replay", help="Queue failed deliveries again: the given ids, or --all.")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="Every failed delivery.")
@with_appcontext
def replay(ids: tuple[int, ...], replay_all: bool) -> None:
    if bool(ids) == replay_all:
        raise click.UsageError("Give outbox ids or --all (not both).")
    if replay_all:
        ids = tuple(db.session.scalars(select(OutboxMessage.id).filter_by(state=FAILED)))
    not_failed = [i for i in ids if not delivery.replay(i)]
    if not_failed:
        db.session.rollback()
        raise click.ClickException(
            "Not failed (or unknown), nothing replayed: " + ", ".join(map(str, not_failed))
        )
    db.session.commit()
    kick(list(ids))
    click.echo(f"{len(ids)} delivery(ies) queued again.")
