"""The open-data export: the authorizations in force, as CSV, written once a day.

Only facts about organisations and APIs, never about people: no applicant, contact, email,
phone, request text or document. An establishment of a sole proprietor (legal category 1000,
"entrepreneur individuel") is named after a person, so its rows are left out.
"""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from datapass.accounts.models import Organization
from datapass.authorizations.models import Authorization
from datapass.catalog import all_definitions
from datapass.extensions import db
from datapass.oauth.validity import authorization_expires_at

FILENAME = "habilitations-actives.csv"
COLUMNS = [
    "id_habilitation",
    "siret",
    "organisation",
    "api",
    "api_nom",
    "fournisseur",
    "scopes",
    "date_debut",
    "date_fin",
]
# Legal categories of natural persons (INSEE "catégories juridiques", level 1: 1).
PERSONAL_LEGAL_FORMS = ("Catégorie juridique 1", "Entrepreneur individuel")


def open_data_path() -> Path:
    return Path(current_app.config["OPEN_DATA_DIR"]) / FILENAME


def _is_natural_person(organization_legal_form: str) -> bool:
    return (organization_legal_form or "").startswith(PERSONAL_LEGAL_FORMS)


def active_authorization_rows(now: datetime | None = None):
    """One row (list of strings) per authorization in force at `now`, oldest first."""
    now = now or datetime.now(UTC)
    definitions = all_definitions()
    query = (
        select(
            Authorization,
            Organization.siret,
            Organization.name,
            Organization.legal_form,
        )
        .join(Organization, Organization.id == Authorization.organization_id)
        .where(Authorization.state == "active")
        .order_by(Authorization.id)
        .execution_options(yield_per=1000)
    )
    for authorization, siret, name, legal_form in db.session.execute(query):
        definition = definitions.get(authorization.definition_id)
        if definition is None or _is_natural_person(legal_form):
            continue
        expires_at = authorization_expires_at(authorization)
        if expires_at is not None and expires_at <= now:
            continue
        yield [
            str(authorization.id),
            siret,
            name,
            definition.id,
            definition.name,
            definition.provider.name,
            " ".join(authorization.scopes or []),
            authorization.created_at.date().isoformat(),
            expires_at.date().isoformat() if expires_at else "",
        ]


def export_open_data(path: Path | None = None, now: datetime | None = None) -> tuple[Path, int]:
    """Write the CSV to `path` (default: OPEN_DATA_DIR) atomically; returns it and its rows.

    The file is written beside its destination and renamed over it: a reader gets the previous
    file or the new one, never half of one.
    """
    path = Path(path) if path else open_data_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept after closing, then renamed)
        "w", encoding="utf-8", newline="", dir=path.parent, prefix=".export-", delete=False
    )
    try:
        with handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for row in active_authorization_rows(now):
                writer.writerow(row)
                count += 1
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path, count
