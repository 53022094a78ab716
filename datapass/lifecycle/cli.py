"""`datapass lifecycle tick`: the periodic lifecycle work, for cron or a manual catch-up."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from datapass.models_base import utcnow


@click.group("lifecycle", help="Expiry of authorizations, reminders, stale drafts.")
def lifecycle_group() -> None:
    pass


def _parse_now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected an ISO 8601 date, e.g. 2027-01-31T08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@lifecycle_group.command("tick", help="Expire, remind and archive what is due now (once).")
@click.option("--now", "now_text", help="Act as if it were this moment (ISO 8601, UTC if naive).")
@with_appcontext
def tick_command(now_text: str | None) -> None:
    from datapass.lifecycle.expiry import tick

    report = tick(_parse_now(now_text))
    click.echo(
        f"expired={report.expired} expiry_reminders={report.reminded_expiry} "
        f"draft_reminders={report.reminded_drafts} archived_drafts={report.archived_drafts}"
    )
