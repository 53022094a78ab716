"""The open-data export of authorizations in force: content, no personal data, CLI, download."""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

from datapass.accounts.models import Organization, User
from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.stats.open_data import COLUMNS


def _world(app, factory):
    clamart = factory.organization("Commune de Clamart")
    sole_trader = factory.organization("Jeanne Dupont")
    with app.app_context():
        db.session.get(Organization, sole_trader).legal_form = "Catégorie juridique 1000"
        db.session.commit()
    applicant = factory.user(organizations=(clamart, sole_trader), email="camille@clamart.fr")
    validated = factory.request(applicant, clamart, state="validated")
    factory.request(applicant, clamart, state="refused")
    factory.request(applicant, clamart, state="submitted")
    factory.request(applicant, sole_trader, state="validated")
    with app.app_context():
        authorization = db.session.query(Authorization).filter_by(request_id=validated).one()
        org = db.session.get(Organization, clamart)
        user = db.session.get(User, applicant)
        return {
            "authorization_id": authorization.id,
            "scopes": authorization.scopes,
            "siret": org.siret,
            "created": authorization.created_at.date().isoformat(),
            "personal": [user.email, user.family_name, user.phone_number, "Jeanne Dupont"],
        }


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_download_lists_active_authorizations_without_personal_data(app, client, factory):
    known = _world(app, factory)
    response = client.get("/stats/habilitations-actives.csv")  # no sign-in
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = _rows(text)
    assert rows == [
        {
            "id_habilitation": str(known["authorization_id"]),
            "siret": known["siret"],
            "organisation": "Commune de Clamart",
            "api": "api_particulier",
            "api_nom": rows[0]["api_nom"],
            "fournisseur": rows[0]["fournisseur"],
            "scopes": " ".join(known["scopes"]),
            "date_debut": known["created"],
            "date_fin": "",
        }
    ]
    assert rows[0]["api_nom"] and rows[0]["fournisseur"]
    assert known["scopes"]
    assert "@" not in text
    for value in known["personal"]:
        assert value not in text


def test_cli_writes_the_file_atomically_and_the_page_serves_it(app, client, factory, tmp_path):
    _world(app, factory)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export-open-data"])
    assert result.exit_code == 0, result.output
    path = Path(app.config["OPEN_DATA_DIR"]) / "habilitations-actives.csv"
    assert "1 active authorizations written to" in result.output
    assert len(_rows(path.read_text())) == 1
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    # The page serves the file as written by the job (not recomputed).
    path.write_text(",".join(COLUMNS) + "\n")
    assert _rows(client.get("/stats/habilitations-actives.csv").get_data(as_text=True)) == []
    assert "mis à jour le" in client.get("/stats").get_data(as_text=True)
    # Older than a day (the daily job did not run, or runs on another disk): written again.
    day_old = time.time() - 26 * 3600
    os.utime(path, (day_old, day_old))
    assert len(_rows(client.get("/stats/habilitations-actives.csv").get_data(as_text=True))) == 1

    target = tmp_path / "export.csv"
    assert runner.invoke(args=["export-open-data", "--output", str(target)]).exit_code == 0
    assert len(_rows(target.read_text())) == 1


def test_cli_fails_clearly_when_it_cannot_write(app, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = app.test_cli_runner().invoke(
        args=["export-open-data", "--output", str(blocker / "export.csv")]
    )
    assert result.exit_code != 0
    assert "Cannot write the export" in result.output


def test_celery_task_is_registered_under_its_beat_name(app):
    celery_app = app.extensions["celery"]
    assert "datapass.stats.export_open_data" in celery_app.tasks
