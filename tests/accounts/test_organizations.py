"""Organisations: the register adapter and its sandbox, adding one by SIRET, the current one."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from datapass.accounts import directory
from datapass.accounts.models import Organization, User
from datapass.extensions import db
from datapass.models_base import utcnow
from datapass.requests.models import AuthorizationRequest

CLAMART = "21920023500014"
CLOSED = "20000017200011"


def test_sandbox_answers_in_the_api_shape(app):
    with app.app_context():
        record = directory.SandboxDirectory().lookup(CLAMART)
        assert record.name == "COMMUNE DE CLAMART"
        assert record.legal_form == "Commune et commune nouvelle"
        assert record.address.endswith("92140 CLAMART")
        assert record.is_active
        assert not directory.SandboxDirectory().lookup(CLOSED).is_active
        # An establishment of a company found through the company's other establishments.
        assert directory.SandboxDirectory().lookup("35600000049837").name == "LA POSTE"
        with pytest.raises(directory.UnknownSiret, match="introuvable"):
            directory.SandboxDirectory().lookup("13002526500021")


def test_organisation_is_refreshed_at_most_daily(app):
    with app.app_context():
        organization = directory.organization_for_siret("219 200 235 00014")
        db.session.commit()
        assert organization.name == "COMMUNE DE CLAMART"
        organization.name = "Renamed locally"
        db.session.commit()
        assert directory.organization_for_siret(CLAMART).name == "Renamed locally"
        organization.directory_refreshed_at = utcnow() - timedelta(hours=25)
        db.session.commit()
        assert directory.organization_for_siret(CLAMART).name == "COMMUNE DE CLAMART"
        assert utcnow() - organization.directory_refreshed_at < timedelta(minutes=1)


class _RegisterHandler(BaseHTTPRequestHandler):
    answers: dict = {}

    def do_GET(self):  # noqa: N802
        siret = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
        body = json.dumps(self.answers.get(siret, {"results": []})).encode()
        self.send_response(200 if urlsplit(self.path).path == "/search" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def register():
    """A loopback stand-in for recherche-entreprises.api.gouv.fr, answering the recordings."""
    _RegisterHandler.answers = json.loads(directory.SANDBOX_FILE.read_text())["answers"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RegisterHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_api_adapter_over_http_and_outage(make_app, register):
    url, server = register
    app = make_app(DIRECTORY_BACKEND="api", DIRECTORY_API_URL=url)
    with app.app_context():
        organization = directory.organization_for_siret(CLOSED)
        db.session.commit()
        assert organization.name.startswith("COMMUNAUTE DE COMMUNES")
        assert not organization.is_active
        server.shutdown()
        server.server_close()
        with pytest.raises(directory.DirectoryError, match="ne répond pas"):
            directory.RechercheEntreprises(url, timeout=1).lookup(CLAMART)
        # A known organisation keeps its details through an outage.
        organization.directory_refreshed_at = utcnow() - timedelta(days=2)
        db.session.commit()
        assert directory.organization_for_siret(CLOSED).name.startswith("COMMUNAUTE")


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("1234", "Un numéro SIRET compte 14 chiffres (et non 4)."),
        ("21920023500015", "Ce numéro SIRET est invalide"),
        ("13002526500021", "introuvable dans le répertoire des entreprises"),
    ],
)
def test_adding_an_organisation_refuses_a_bad_siret(app, factory, login_as, siret, message):
    client = login_as(factory.user())
    response = client.post("/organizations", data={"siret": siret})
    assert response.status_code == 400
    assert message in unescape(response.text)
    with app.app_context():
        assert db.session.scalar(select(Organization).where(Organization.siret == siret)) is None


def test_adding_an_organisation_makes_an_unverified_membership(app, factory, login_as):
    user_id = factory.user()
    client = login_as(user_id)
    response = client.post("/organizations", data={"siret": "219 200 235 00014"})
    assert response.status_code == 302
    page = unescape(client.get("/organizations").text)
    assert "COMMUNE DE CLAMART" in page and "Appartenance non vérifiée" in page
    with app.app_context():
        [membership] = db.session.get(User, user_id).memberships
        assert not membership.verified
    again = client.post("/organizations", data={"siret": CLAMART})
    assert "déjà membre" in unescape(again.text)


def _closed_organization(app) -> int:
    with app.app_context():
        organization = directory.organization_for_siret(CLOSED)
        db.session.commit()
        return organization.id


def test_closed_organisation_cannot_start_a_request(app, factory, login_as):
    closed_id = _closed_organization(app)
    client = login_as(factory.user(organizations=(closed_id,)))
    response = client.get("/requests/new/api_particulier")
    assert response.status_code == 302
    posted = client.post("/requests/new/api_particulier", data={"organization_id": closed_id})
    assert posted.status_code == 302
    assert "/steps/" not in posted.headers["Location"]
    page = unescape(client.get("/organizations").text)
    assert "Établissement fermé" in page
    with app.app_context():
        assert db.session.scalar(select(AuthorizationRequest)) is None


def test_closed_organisation_is_not_offered_next_to_an_active_one(app, factory, login_as):
    closed_id = _closed_organization(app)
    active_id = factory.organization()
    client = login_as(factory.user(organizations=(closed_id, active_id)))
    form = client.get("/requests/new/api_particulier")
    assert form.status_code == 200
    assert f"SIRET {CLOSED}" not in form.text
    with app.app_context():
        assert f"SIRET {db.session.get(Organization, active_id).siret}" in form.text
    posted = client.post("/requests/new/api_particulier", data={"organization_id": closed_id})
    assert posted.status_code in (200, 400)
    with app.app_context():
        assert db.session.scalar(select(AuthorizationRequest)) is None


def test_current_organisation_filters_the_list_and_can_be_switched(app, factory, login_as):
    first = factory.organization("Commune A")
    second = factory.organization("Commune B")
    stranger = factory.organization("Commune C")
    user_id = factory.user(organizations=(first, second))
    in_first = factory.request(user_id, first)
    in_second = factory.request(user_id, second)
    client = login_as(user_id)

    def listed() -> set[int]:
        text = client.get("/requests").text
        return {i for i in (in_first, in_second) if f"/requests/{i}" in text}

    page = client.get("/requests").text
    assert 'data-testid="organization-switch"' in page
    assert f'<option value="{first}" selected>Commune A</option>' in page
    assert listed() == {in_first}

    response = client.post("/organizations/current", data={"organization_id": second})
    assert response.status_code == 303
    assert listed() == {in_second}
    # The other organisation's request stays reachable by its address (shared links).
    assert client.get(f"/requests/{in_first}").status_code == 200

    refused = client.post("/organizations/current", data={"organization_id": stranger})
    assert refused.status_code == 303
    assert listed() == {in_second}
    with app.app_context():
        assert db.session.get(User, user_id).current_organization_id == second


def test_starting_a_request_for_another_organisation_makes_it_current(app, factory, login_as):
    first = factory.organization("Commune A")
    second = factory.organization("Commune B")
    user_id = factory.user(organizations=(first, second))
    client = login_as(user_id)
    page = client.get("/requests").text
    assert 'data-testid="membership-unverified"' in page  # the factory's memberships are not
    response = client.post("/requests/new/api_particulier", data={"organization_id": second})
    assert response.status_code == 302 and "/steps/" in response.headers["Location"]
    request_id = int(response.headers["Location"].split("/")[2])
    assert f"/requests/{request_id}" in client.get("/requests").text
    with app.app_context():
        assert db.session.get(User, user_id).current_organization_id == second
