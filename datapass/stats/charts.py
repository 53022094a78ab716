"""Charts drawn on the server as inline SVG: no JavaScript, no third-party library.

Each chart is an image with a title and a description for screen readers; the page prints the
same figures in a table next to it. Colours are the DSFR's illustrative colours, and text uses
`currentColor` so that the charts follow the light and dark themes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 36
MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc."]  # fmt: skip
COLOURS = ["#000091", "#18753c", "#ce0500", "#b34000", "#6a6af4", "#009081"]


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]
    colour: str


def month_label(month: str) -> str:
    """'2026-03' -> 'mars 26'."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year[2:]}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:.1f}".replace(".", ",")


def _frame(chart_id: str, title: str, description: str, body: list[str], ceiling: float):
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="dp-chart" '
        f'font-family="Marianne, arial, sans-serif" font-size="12">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for i in range(5):
        value = ceiling * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="currentColor" stroke-opacity="{0.5 if i == 0 else 0.15}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="currentColor">'
            f"{_number(value)}</text>"
        )
    parts.extend(body)
    parts.append("</svg>")
    return Markup("".join(parts))


def _x_labels(months: list[str], slot: float) -> list[str]:
    every = max(1, math.ceil(len(months) / 12))
    return [
        f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 16}" '
        f'text-anchor="middle" fill="currentColor">{escape(month_label(month))}</text>'
        for i, month in enumerate(months)
        if i % every == 0
    ]


def bar_chart(chart_id: str, title: str, months: list[str], series: list[Series]) -> Markup:
    """Grouped bars: one group per month, one bar per series."""
    ceiling = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(months))
    bar = slot * 0.8 / max(1, len(series))
    body = []
    for i, month in enumerate(months):
        for j, serie in enumerate(series):
            value = serie.values[i] or 0
            height = plot_h * value / ceiling
            x = LEFT + slot * i + slot * 0.1 + bar * j
            body.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{serie.colour}"><title>'
                f"{escape(serie.label)}, {escape(month_label(month))} : {_number(value)}"
                "</title></rect>"
            )
    body.extend(_x_labels(months, slot))
    description = "; ".join(
        f"{s.label} : {sum(v or 0 for v in s.values):.0f} sur la période" for s in series
    )
    return _frame(chart_id, title, description, body, ceiling)


def line_chart(
    chart_id: str, title: str, months: list[str], series: list[Series], unit: str = ""
) -> Markup:
    """One line per series; a month without a value breaks the line."""
    ceiling = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(months))
    body = []
    for serie in series:
        segments, current = [], []
        for i, value in enumerate(serie.values):
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x = LEFT + slot * (i + 0.5)
            y = TOP + plot_h - plot_h * value / ceiling
            current.append((x, y, months[i], value))
        if current:
            segments.append(current)
        for segment in segments:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in segment)
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{serie.colour}" '
                'stroke-width="2.5" stroke-linejoin="round"/>'
            )
            for x, y, month, value in segment:
                body.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{serie.colour}"><title>'
                    f"{escape(serie.label)}, {escape(month_label(month))} : "
                    f"{_number(round(value, 1))}{escape(unit)}</title></circle>"
                )
    body.extend(_x_labels(months, slot))
    last = [next((v for v in reversed(s.values) if v is not None), None) for s in series]
    description = "; ".join(
        f"{s.label} : {_number(round(v, 1))}{unit} au dernier mois connu"
        for s, v in zip(series, last, strict=True)
        if v is not None
    )
    return _frame(chart_id, title, description or "Aucune donnée sur la période.", body, ceiling)
