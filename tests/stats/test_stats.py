"""Public statistics: figures from a known audit trail, filters, CSV, cache, rate limit."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from datapass.extensions import db
from datapass.lifecycle.models import Event
from tests.factories import Factory

PERIOD = {"start": "2026-01", "end": "2026-03"}


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def add_events(app, request_id: int, *moves: tuple[str, str | None, str | None, str]) -> None:
    """Write audit-trail events (name, from_state, to_state, ISO time) for a request."""
    with app.app_context():
        for name, before, after, when in moves:
            db.session.add(
                Event(
                    name=name,
                    request_id=request_id,
                    from_state=before,
                    to_state=after,
                    created_at=at(when),
                )
            )
        db.session.commit()


@pytest.fixture
def world(app, factory):
    """Four API Particulier requests and one of API impôt particulier with a known history.

    A: submitted 10 Jan, changes requested 12 Jan, resubmitted 20 Jan, validated 1 Feb.
    B: submitted 15 Jan, refused 25 Jan.
    C: submitted 3 Feb, still waiting.
    D: submitted 1 Dec 2025, validated 5 Dec, reopened 10 Feb, resubmitted 11 Feb.
    E (impôt particulier, DGFiP): submitted 5 Jan.
    """
    org = factory.organization("Commune de Clamart")
    applicant = factory.user(organizations=(org,))
    ids = {
        key: factory.request(applicant, org, definition_id=definition)
        for key, definition in {
            "A": "api_particulier",
            "B": "api_particulier",
            "C": "api_particulier",
            "D": "api_particulier",
            "E": "api_impot_particulier_sandbox",
        }.items()
    }
    add_events(
        app,
        ids["A"],
        ("submit", "draft", "submitted", "2026-01-10T09:00"),
        ("request_changes", "submitted", "changes_requested", "2026-01-12T09:00"),
        ("submit", "changes_requested", "submitted", "2026-01-20T09:00"),
        ("approve", "submitted", "validated", "2026-02-01T09:00"),
    )
    add_events(
        app,
        ids["B"],
        ("submit", "draft", "submitted", "2026-01-15T12:00"),
        ("message", None, None, "2026-01-16T12:00"),
        ("refuse", "submitted", "refused", "2026-01-25T12:00"),
    )
    add_events(app, ids["C"], ("submit", "draft", "submitted", "2026-02-03T08:00"))
    add_events(
        app,
        ids["D"],
        ("submit", "draft", "submitted", "2025-12-01T10:00"),
        ("approve", "submitted", "validated", "2025-12-05T10:00"),
        ("reopen", "validated", "draft", "2026-02-10T10:00"),
        ("submit", "draft", "submitted", "2026-02-11T10:00"),
    )
    add_events(app, ids["E"], ("submit", "draft", "submitted", "2026-01-05T10:00"))
    return ids


def read_csv(response) -> dict[str, dict[str, str]]:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return {row["mois"]: row for row in rows}


def test_monthly_figures_backlog_and_times_from_known_events(client, world):
    rows = read_csv(
        client.get(
            "/stats/statistiques.csv", query_string={**PERIOD, "definition": "api_particulier"}
        )
    )
    assert list(rows) == ["2026-01", "2026-02", "2026-03"]
    jan, feb, mar = rows["2026-01"], rows["2026-02"], rows["2026-03"]
    # First submissions only: A's resubmission and D's post-reopening one are not new requests.
    assert (jan["deposees"], feb["deposees"], mar["deposees"]) == ("2", "1", "0")
    assert (jan["validees"], feb["validees"]) == ("0", "1")
    assert (jan["refusees"], feb["refusees"]) == ("1", "0")
    assert (jan["rouvertes"], feb["rouvertes"]) == ("0", "1")
    # End of January: A waiting again; February: C and D waiting, A validated.
    assert [r["en_attente_fin_de_mois"] for r in (jan, feb, mar)] == ["1", "2", "2"]
    # First instruction in January: A after 2 days, B after 10 (median 6, p90 9.2).
    assert jan["premiere_instruction_nombre"] == "2"
    assert jan["premiere_instruction_mediane_jours"] == "6.00"
    assert jan["premiere_instruction_p90_jours"] == "9.20"
    # Decisions: B in January (10 days), A in February (22 days after its first submission).
    assert (jan["decision_mediane_jours"], feb["decision_mediane_jours"]) == ("10.00", "22.00")
    assert mar["decision_nombre"] == "0" and mar["decision_mediane_jours"] == ""


def test_summary_over_the_period(client, world):
    page = client.get("/stats", query_string={**PERIOD, "definition": "api_particulier"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Decisions over the period: 10 and 22 days -> median 16, 90th percentile 20.8.
    assert "16,0 j · 90 % en 20,8 j au plus" in html
    assert "6,0 j · 90 % en 9,2 j au plus" in html


def test_filters_by_definition_provider_and_period(client, world):
    every = read_csv(client.get("/stats/statistiques.csv", query_string=PERIOD))
    assert every["2026-01"]["deposees"] == "3"  # E counts too
    dgfip = read_csv(
        client.get("/stats/statistiques.csv", query_string={**PERIOD, "provider": "dgfip"})
    )
    assert dgfip["2026-01"]["deposees"] == "1"
    assert dgfip["2026-02"]["en_attente_fin_de_mois"] == "1"
    dinum = read_csv(
        client.get("/stats/statistiques.csv", query_string={**PERIOD, "provider": "dinum"})
    )
    assert dinum["2026-01"]["deposees"] == "2"
    february = read_csv(
        client.get("/stats/statistiques.csv", query_string={"start": "2026-02", "end": "2026-02"})
    )
    # The backlog carries what was waiting before the period: A and E at the end of January.
    assert list(february) == ["2026-02"]
    assert february["2026-02"]["en_attente_fin_de_mois"] == "3"


@pytest.mark.parametrize(
    "query, message",
    [
        ({"start": "2026-03", "end": "2026-01"}, "Le mois de fin doit suivre le mois de début."),
        ({"start": "2016-01", "end": "2026-03"}, "120 mois au plus"),
        ({"definition": "api_inconnue"}, "pas un choix valide"),
        ({"provider": "dgfip", "definition": "api_particulier"}, "pas proposée par ce fournisseur"),
        ({"start": "janvier"}, "Du mois"),
    ],
)
def test_bad_filters_are_a_clear_error(client, query, message):
    page = client.get("/stats", query_string=query)
    assert page.status_code == 400
    assert "Corrigez les filtres" in page.get_data(as_text=True)
    download = client.get("/stats/statistiques.csv", query_string=query)
    assert download.status_code == 400
    assert download.mimetype == "text/plain"
    assert message.lower() in download.get_data(as_text=True).lower()


def test_public_page_without_sign_in_draws_charts_and_links_downloads(client, world):
    page = client.get("/stats", query_string=PERIOD)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4
    assert 'role="img"' in html and '<title id="chart-activity-title">' in html
    assert "Déposées, janv. 26 : 3" in html  # the bar's tooltip
    assert 'href="/stats/statistiques.csv?start=2026-01&amp;end=2026-03"' in html
    assert 'href="/stats/habilitations-actives.csv"' in html
    assert page.headers["Cache-Control"].startswith("public, max-age=")
    assert " style=" not in html  # the Content-Security-Policy forbids style attributes
    # Linked from every page's footer.
    assert 'href="/stats"' in client.get("/").get_data(as_text=True)


def test_figures_are_cached_for_the_configured_time(make_app):
    # The same database for both apps: a month each, so that the first does not feed the second.
    for ttl, month, expected in ((3600, "2026-01", "0"), (0, "2026-04", "1")):
        app = make_app(STATS_CACHE_TTL=ttl)
        factory = Factory(app)
        org = factory.organization()
        request_id = factory.request(factory.user(organizations=(org,)), org)
        client = app.test_client()
        query = {"start": month, "end": month}
        first = read_csv(client.get("/stats/statistiques.csv", query_string=query))
        assert first[month]["deposees"] == "0"
        add_events(app, request_id, ("submit", "draft", "submitted", f"{month}-10T09:00"))
        again = read_csv(client.get("/stats/statistiques.csv", query_string=query))
        assert again[month]["deposees"] == expected, ttl


def test_rate_limit_answers_429_with_retry_after(make_app):
    app = make_app(STATS_RATE_LIMIT=2)
    client = app.test_client()
    assert client.get("/stats").status_code == 200
    assert client.get("/stats/statistiques.csv").status_code == 200
    refused = client.get("/stats")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Trop de requêtes" in refused.get_data(as_text=True)
    download = client.get("/stats/statistiques.csv")
    assert download.status_code == 429 and "Retry-After" in download.headers
    # Another address has its own allowance.
    other = client.get("/stats", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200
    # Pages outside /stats are not counted.
    assert client.get("/").status_code == 200


def test_bad_setting_stops_start_up(make_app, monkeypatch):
    from datapass.config import ConfigError

    monkeypatch.setenv("DATAPASS_STATS_RATE_LIMIT", "beaucoup")
    with pytest.raises(ConfigError, match="DATAPASS_STATS_RATE_LIMIT"):
        make_app()
