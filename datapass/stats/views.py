"""The public statistics page and its CSV downloads: no sign-in, cached, rate limited."""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import UTC, date, datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
)
from wtforms import SelectField
from wtforms.fields import MonthField
from wtforms.validators import Optional

from datapass.catalog import all_definitions
from datapass.requests.forms import FrenchForm
from datapass.stats import charts
from datapass.stats.figures import Figures, Scope, compute_figures
from datapass.stats.open_data import export_open_data, open_data_path

bp = Blueprint("stats", __name__, url_prefix="/stats")

MAX_MONTHS = 120
DEFAULT_MONTHS = 12
CACHE_ENTRIES = 256
OPEN_DATA_MAX_AGE = 25 * 3600
_export_lock = threading.Lock()


class StatsFilterForm(FrenchForm):
    class Meta:
        csrf = False

    provider = SelectField("Fournisseur", validators=[Optional()])
    definition = SelectField("API", validators=[Optional()])
    start = MonthField("Du mois", validators=[Optional()])
    end = MonthField("Au mois", validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        start, end = self.start.data, self.end.data
        if start and end and start > end:
            self.end.errors.append("Le mois de fin doit suivre le mois de début.")
            return False
        if start and end and _months_between(start, end) > MAX_MONTHS:
            self.end.errors.append(f"La période couvre {MAX_MONTHS} mois au plus.")
            return False
        definitions = all_definitions()
        if (
            self.provider.data
            and self.definition.data
            and definitions[self.definition.data].provider.slug != self.provider.data
        ):
            self.definition.errors.append("Cette API n'est pas proposée par ce fournisseur.")
            return False
        return True


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _shift(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _form() -> StatsFilterForm:
    definitions = sorted(all_definitions().values(), key=lambda d: d.name)
    providers = {d.provider.slug: d.provider.name for d in definitions}
    form = StatsFilterForm(request.args)
    form.provider.choices = [("", "Tous les fournisseurs")] + sorted(
        providers.items(), key=lambda p: p[1]
    )
    form.definition.choices = [("", "Toutes les API")] + [(d.id, d.name) for d in definitions]
    return form


def _scope(form: StatsFilterForm) -> Scope:
    """The filters as a scope; a month alone extends to a default-length period."""
    today = datetime.now(UTC).date().replace(day=1)
    start, end = form.start.data, form.end.data
    if start and not end:
        end = min(_shift(start, DEFAULT_MONTHS - 1), max(start, today))
    elif end and not start:
        start = _shift(end, -(DEFAULT_MONTHS - 1))
    elif not start:
        start, end = _shift(today, -(DEFAULT_MONTHS - 1)), today
    definition_ids = None
    if form.definition.data:
        definition_ids = (form.definition.data,)
    elif form.provider.data:
        definition_ids = tuple(
            sorted(
                d.id for d in all_definitions().values() if d.provider.slug == form.provider.data
            )
        )
    return Scope(definition_ids, start.replace(day=1), end.replace(day=1))


def cached_figures(scope: Scope) -> Figures:
    """The figures of `scope`, computed at most once per STATS_CACHE_TTL in this process."""
    ttl = current_app.config["STATS_CACHE_TTL"]
    cache = current_app.extensions["datapass.stats.cache"]
    now = time.monotonic()
    entry = cache.get(scope)
    if ttl and entry and entry[0] > now:
        return entry[1]
    figures = compute_figures(scope)
    if ttl:
        if len(cache) >= CACHE_ENTRIES:
            for key in [k for k, (expiry, _) in cache.items() if expiry <= now] or list(cache):
                cache.pop(key, None)
        cache[scope] = (now + ttl, figures)
    return figures


@bp.before_request
def _rate_limit():
    limiter = current_app.extensions["datapass.stats.limiter"]
    retry_after = limiter.hit(request.remote_addr or "unknown")
    if retry_after is None:
        return None
    message = f"Trop de requêtes : réessayez dans {retry_after} secondes."
    if request.path.endswith(".csv"):
        response = Response(message + "\n", status=429, mimetype="text/plain")
    else:
        response = Response(render_template("error.html", status=429, message=message), status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _public(response: Response) -> Response:
    ttl = current_app.config["STATS_CACHE_TTL"]
    response.headers["Cache-Control"] = f"public, max-age={ttl}" if ttl else "no-cache"
    return response


def _charts(figures: Figures) -> dict:
    months = [m.month for m in figures.months]
    s = charts.Series
    colours = charts.COLOURS

    def durations(attribute: str):
        return [
            s("Médiane", [getattr(m, attribute).median for m in figures.months], colours[0]),
            s("90e centile", [getattr(m, attribute).p90 for m in figures.months], colours[3]),
        ]

    return {
        "activity": charts.bar_chart(
            "chart-activity",
            "Demandes par mois",
            months,
            [
                s("Déposées", [m.submitted for m in figures.months], colours[0]),
                s("Validées", [m.validated for m in figures.months], colours[1]),
                s("Refusées", [m.refused for m in figures.months], colours[2]),
                s("Rouvertes", [m.reopened for m in figures.months], colours[3]),
            ],
        ),
        "backlog": charts.line_chart(
            "chart-backlog",
            "Demandes en attente d'instruction en fin de mois",
            months,
            [s("En attente", [m.backlog for m in figures.months], colours[0])],
        ),
        "first_instruction": charts.line_chart(
            "chart-first-instruction",
            "Délai de première instruction (jours)",
            months,
            durations("first_instruction"),
            unit=" j",
        ),
        "decision": charts.line_chart(
            "chart-decision", "Délai de décision (jours)", months, durations("decision"), unit=" j"
        ),
    }


@bp.get("")
def index():
    form = _form()
    valid = not request.args or form.validate()
    figures = cached_figures(_scope(form)) if valid else None
    response = Response(
        render_template(
            "stats/index.html",
            form=form,
            figures=figures,
            charts=_charts(figures) if figures else None,
            month_label=charts.month_label,
            csv_args={k: v for k, v in request.args.items() if v},
            open_data_updated_at=_open_data_mtime(),
        ),
        status=200 if valid else 400,
    )
    return _public(response) if valid else response


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


@bp.get("/statistiques.csv")
def figures_csv():
    form = _form()
    if request.args and not form.validate():
        errors = "; ".join(
            f"{form[name].label.text} : {' '.join(e)}" for name, e in form.errors.items()
        )
        return Response(f"Filtres invalides. {errors}\n", status=400, mimetype="text/plain")
    figures = cached_figures(_scope(form))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "mois",
            "deposees",
            "validees",
            "refusees",
            "rouvertes",
            "en_attente_fin_de_mois",
            "premiere_instruction_nombre",
            "premiere_instruction_mediane_jours",
            "premiere_instruction_p90_jours",
            "decision_nombre",
            "decision_mediane_jours",
            "decision_p90_jours",
        ]
    )
    for m in figures.months:
        writer.writerow(
            [
                m.month,
                m.submitted,
                m.validated,
                m.refused,
                m.reopened,
                m.backlog,
                m.first_instruction.count,
                _days(m.first_instruction.median),
                _days(m.first_instruction.p90),
                m.decision.count,
                _days(m.decision.median),
                _days(m.decision.p90),
            ]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="datapass-statistiques.csv"'
    return _public(response)


def _is_stale(path) -> bool:
    """Missing, or older than a day and an hour (the web and the worker may not share a disk)."""
    return not path.exists() or time.time() - path.stat().st_mtime > OPEN_DATA_MAX_AGE


def _open_data_mtime() -> datetime | None:
    path = open_data_path()
    if not path.exists():
        return None
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


@bp.get("/habilitations-actives.csv")
def open_data():
    """The daily export; written here if missing or stale (the job ran elsewhere, or not)."""
    path = open_data_path()
    if _is_stale(path):
        with _export_lock:
            if _is_stale(path):
                export_open_data(path)
    # Read whole (a few MB at most): a streamed file handle would outlive the request.
    response = Response(path.read_bytes(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        'attachment; filename="datapass-habilitations-actives.csv"'
    )
    response.last_modified = path.stat().st_mtime
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
