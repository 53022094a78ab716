"""Public statistics (/stats) and the daily open-data export of authorizations in force."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

SETTINGS = {
    # name: (default, meaning) — integers from DATAPASS_<name>
    "STATS_CACHE_TTL": (600, "seconds the statistics of one filter are kept in each process"),
    "STATS_RATE_LIMIT": (60, "public statistics pages per minute and per address (0: off)"),
}


def _apply_settings(config: dict) -> None:
    from datapass.config import ConfigError

    for name, (default, _) in SETTINGS.items():
        if name in config:
            continue
        raw = os.environ.get(f"DATAPASS_{name}", str(default))
        try:
            config[name] = int(raw)
        except ValueError:
            raise ConfigError(f"DATAPASS_{name}={raw!r}: expected a whole number") from None
        if config[name] < 0:
            raise ConfigError(f"DATAPASS_{name}: expected 0 or more")
    config.setdefault(
        "OPEN_DATA_DIR",
        os.environ.get("DATAPASS_OPEN_DATA_DIR") or str(Path(config["VAR_DIR"]) / "open-data"),
    )


@click.command("export-open-data", help="Write the CSV of authorizations in force (daily job).")
@click.option("--output", type=click.Path(dir_okay=False), help="Default: DATAPASS_OPEN_DATA_DIR.")
@with_appcontext
def export_open_data_command(output: str | None) -> None:
    from datapass.stats.open_data import export_open_data

    try:
        path, count = export_open_data(Path(output) if output else None)
    except OSError as exc:
        raise click.ClickException(f"Cannot write the export: {exc}") from exc
    click.echo(f"{count} active authorizations written to {path}.")


def init_app(app: Flask) -> None:
    from datapass.security.ratelimit import limiter
    from datapass.stats import tasks  # noqa: F401  (registers the Celery task)
    from datapass.stats.views import bp

    _apply_settings(app.config)
    # Per address, on the shared store (Redis in production: one count for all workers).
    app.extensions["datapass.stats.limiter"] = limiter(app, "stats", app.config["STATS_RATE_LIMIT"])
    app.extensions["datapass.stats.cache"] = {}
    app.register_blueprint(bp)
    app.cli.add_command(export_open_data_command)
