"""The README's backup procedure, on PostgreSQL: pg_dump, then pg_restore into a fresh
database, and the app reads everything back (rows, sequences, pages)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import select, text

from tests import postgres
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="PostgreSQL only: DATAPASS_TEST_DATABASE_URL (scripts/test.sh)"
)


def pg_tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        pytest.fail(f"{name} not found: install Debian's postgresql-client")
    return found


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary key order."""
    from datapass.extensions import db

    with app.app_context():
        rows = {}
        for table in db.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in db.session.execute(query)]
        rows["alembic_version"] = db.session.execute(
            text("SELECT version_num FROM alembic_version")
        ).all()
        db.session.remove()
    return rows


@pytest.fixture
def restored_database():
    name = f"datapass_restore_{uuid.uuid4().hex[:12]}"
    postgres.create_database(POSTGRES_URL, name)
    yield postgres.url_of(POSTGRES_URL, name)
    postgres.drop_database(POSTGRES_URL, name)


def test_a_dump_restored_into_a_fresh_database_gives_everything_back(
    app, make_app, factory, login_as, restored_database, tmp_path
):
    from datapass.authorizations.models import Authorization
    from datapass.extensions import db

    org = factory.organization("Commune de Clamart")
    applicant = factory.user(organizations=(org,), email="camille.martin@clamart.fr")
    validated = factory.request(applicant, org, state="validated")
    submitted = factory.request(applicant, org, state="submitted")
    factory.request(applicant, org, state="refused")
    with app.app_context():
        authorization_id = db.session.scalar(
            select(Authorization.id).filter_by(request_id=validated)
        )
    # The applicant generates the credential's secret: a hashed secret and an event more.
    secret_page = login_as(applicant).post(f"/authorizations/{authorization_id}/credential/secret")
    assert secret_page.status_code == 200
    before = snapshot(app)
    assert before["authorization_requests"] and before["events"] and before["credentials"]

    dump = tmp_path / "datapass.dump"
    source = postgres.libpq_url(app.config["SQLALCHEMY_DATABASE_URI"])
    subprocess.run(
        [pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", source],
        check=True,
        timeout=120,
    )
    target = postgres.libpq_url(restored_database)
    subprocess.run(
        [pg_tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)],
        check=True,
        timeout=120,
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
    )

    restored = make_app(SQLALCHEMY_DATABASE_URI=restored_database)
    assert snapshot(restored) == before

    # Sequences came back too: new rows do not collide with restored ones.
    from tests.factories import Factory

    new_org = Factory(restored).organization("Ville de Lyon")
    assert new_org > max(row[0] for row in before["organizations"])

    # And the app serves the restored data to the applicant.
    client = restored.test_client()
    assert client.post("/login", data={"email": "camille.martin@clamart.fr"}).status_code == 302
    page = client.get(f"/requests/{submitted}")
    assert page.status_code == 200
    assert "Commune de Clamart" in page.text
    assert client.get(f"/authorizations/{authorization_id}").status_code == 200
