"""Template globals and filters shared by every page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from datapass.catalog import all_definitions
from datapass.lifecycle import services
from datapass.requests.blocks import change_rows

PARIS = ZoneInfo("Europe/Paris")
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def format_datetime(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    text = f"{local.day} {MONTHS[local.month - 1]} {local.year}"
    return f"{text} à {local:%H:%M}" if with_time else text


def init_app(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = lambda v: format_datetime(v, with_time=False)
    app.jinja_env.globals.update(
        definitions=all_definitions,
        can_edit=services.can_edit,
        can_instruct=services.can_instruct,
        can_message=services.can_message,
        change_rows=change_rows,
    )
