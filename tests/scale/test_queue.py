"""The queue's filters, search, unread badges, remembered filters and CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from datapass.accounts.models import Organization, User
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.requests.models import AuthorizationRequest

ROW = re.compile(r'data-testid="queue-row-(\d+)"')


def shown(client, **query) -> list[int]:
    response = client.get("/instruction", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(int(i) for i in ROW.findall(response.get_data(as_text=True)))


@pytest.fixture
def world(app, factory, login_as):
    clamart = factory.organization("Commune de Clamart")
    lyon = factory.organization("Ville de Lyon")
    camille = factory.user(organizations=(clamart,), email="camille.martin@clamart.fr")
    paul = factory.user(organizations=(lyon,), email="paul.durand@lyon.fr")
    ids = {
        "clamart": factory.request(camille, clamart, state="submitted"),
        "lyon": factory.request(paul, lyon, state="submitted"),
        "lyon_refused": factory.request(paul, lyon, state="refused"),
        "draft": factory.request(camille, clamart),
        "entreprise": factory.request(
            camille, clamart, state="submitted", definition_id="api_entreprise"
        ),
    }
    with app.app_context():
        clamart_request = db.session.get(AuthorizationRequest, ids["clamart"])
        clamart_request.data["intitule"] = "Navette fluviale des seniors"
        clamart_request.submitted_at = datetime(2026, 3, 15, 10, tzinfo=UTC)
        db.session.get(AuthorizationRequest, ids["lyon"]).submitted_at = datetime(
            2026, 5, 2, tzinfo=UTC
        )
        siret = db.session.get(Organization, lyon).siret
        db.session.commit()
    instructor = factory.user(
        roles=(("instructor", "api_particulier"), ("instructor", "api_entreprise"))
    )
    return {
        "ids": ids,
        "client": login_as(instructor),
        "camille": camille,
        "siret": siret,
        "instructor": instructor,
    }


def test_default_view_hides_drafts_and_filters_by_state_and_definition(world):
    ids, client = world["ids"], world["client"]
    assert shown(client) == sorted(
        [ids["clamart"], ids["lyon"], ids["lyon_refused"], ids["entreprise"]]
    )
    assert shown(client, state="refused") == [ids["lyon_refused"]]
    assert shown(client, definition="api_entreprise") == [ids["entreprise"]]


@pytest.mark.parametrize("form", ["D{id}", "{id}", "d{id}", " n°{id} "])
def test_search_by_request_number(world, form):
    ids, client = world["ids"], world["client"]
    assert shown(client, q=form.format(id=ids["lyon"])) == [ids["lyon"]]


def test_search_by_title_organisation_siret_and_email(world):
    ids, client = world["ids"], world["client"]
    assert shown(client, q="fluviale") == [ids["clamart"]]
    assert shown(client, q="lyon") == sorted([ids["lyon"], ids["lyon_refused"]])
    assert shown(client, q=world["siret"]) == sorted([ids["lyon"], ids["lyon_refused"]])
    assert shown(client, q="camille.martin@") == sorted([ids["clamart"], ids["entreprise"]])
    assert shown(client, q="100%_") == []  # LIKE wildcards are searched literally


def test_date_range_on_submission(world):
    ids, client = world["ids"], world["client"]
    query = {"submitted_from": "2026-03-01", "submitted_to": "2026-03-31"}
    assert shown(client, **query) == [ids["clamart"]]
    assert shown(client, submitted_from="2026-05-02", submitted_to="2026-05-02") == [ids["lyon"]]
    # A field in error is shown beside it and ignored; the other filters still apply.
    bad = client.get(
        "/instruction", query_string={"submitted_from": "2026-05-01", "submitted_to": "2026-04-01"}
    ).get_data(as_text=True)
    assert "La date de fin doit suivre la date de début." in bad
    after_may = [ids["lyon"], ids["lyon_refused"], ids["entreprise"]]  # the others: today
    assert sorted(int(i) for i in ROW.findall(bad)) == sorted(after_may)


def test_unread_messages_badge_and_filter(app, world):
    ids, client = world["ids"], world["client"]
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, ids["lyon"])
        author = db.session.get(User, request_obj.applicant_id)
        services.post_message(request_obj, author, "Voici la délibération demandée.")
        services.post_message(request_obj, author, "Et le règlement intérieur.")
        db.session.commit()
    page = client.get("/instruction").get_data(as_text=True)
    assert 'data-testid="unread-{}">2 messages non lus'.format(ids["lyon"]) in page
    assert shown(client, unread="y") == [ids["lyon"]]
    # Opening the request marks its messages read for this instructor only.
    assert client.get(f"/instruction/requests/{ids['lyon']}").status_code == 200
    assert shown(client, unread="y") == []
    assert (
        'data-testid="unread-' not in client.get("/instruction", query_string={"reset": "1"}).text
    )


def test_filters_are_remembered_until_reset(world):
    ids, client = world["ids"], world["client"]
    assert shown(client, state="refused") == [ids["lyon_refused"]]
    assert shown(client) == [ids["lyon_refused"]]  # back on the queue: the same filters
    assert "Filtres enregistrés" in client.get("/instruction").get_data(as_text=True)
    assert shown(client, reset="1") == sorted(
        [ids["clamart"], ids["lyon"], ids["lyon_refused"], ids["entreprise"]]
    )
    assert len(shown(client)) == 4


def test_csv_export_of_the_current_selection(world):
    ids, client = world["ids"], world["client"]
    response = client.get("/instruction/export.csv", query_string={"q": "lyon"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(int(r["numero"]) for r in rows) == sorted([ids["lyon"], ids["lyon_refused"]])
    row = next(r for r in rows if int(r["numero"]) == ids["lyon"])
    assert row["organisation"] == "Ville de Lyon"
    assert row["siret"] == world["siret"]
    assert row["demandeur"] == "paul.durand@lyon.fr"
    assert row["etat"] == "En cours d'instruction"
    assert row["deposee_le"].startswith("2026-05-02")


def test_csv_export_neutralises_spreadsheet_formulas(app, world):
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, world["ids"]["lyon"])
        request_obj.data["intitule"] = '=HYPERLINK("http://example.com","cliquez")'
        db.session.commit()
    response = world["client"].get("/instruction/export.csv", query_string={"q": "lyon"})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    titles = {int(r["numero"]): r["intitule"] for r in rows}
    assert titles[world["ids"]["lyon"]] == '\'=HYPERLINK("http://example.com","cliquez")'


def test_queue_needs_staff(app, factory, login_as, world):
    assert login_as(world["camille"]).get("/instruction/export.csv").status_code == 404
    assert app.test_client().get("/instruction/export.csv").status_code in (302, 401)
