"""Organisation details from the national company register, through the public "Recherche
d'entreprises" API (https://recherche-entreprises.api.gouv.fr), or its recorded sandbox offline.

The adapter is the only place that knows the API's shape; the rest of datapass sees a
`CompanyRecord`. Details are refreshed at most once per DIRECTORY_REFRESH_INTERVAL (a day).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select

from datapass.accounts.models import Organization
from datapass.accounts.siret import normalize_siret
from datapass.extensions import db
from datapass.models_base import utcnow

SANDBOX_FILE = Path(__file__).parent / "sandbox" / "recherche_entreprises.json"

# INSEE "catégories juridiques" most often met among DataPass applicants.
LEGAL_FORMS = {
    "5510": "SA à conseil d'administration",
    "7120": "Service central d'un ministère",
    "7210": "Commune et commune nouvelle",
    "7220": "Département",
    "7229": "Autre collectivité territoriale",
    "7230": "Région",
    "7346": "Communauté de communes",
    "7348": "Communauté d'agglomération",
    "7389": "Établissement public national à caractère administratif",
}


class DirectoryError(Exception):
    """The register could not answer; the message is French, shown as is."""


class UnknownSiret(DirectoryError):
    pass


@dataclass(frozen=True)
class CompanyRecord:
    siret: str
    name: str
    legal_form: str
    address: str
    is_active: bool


class CompanyDirectory(Protocol):
    def lookup(self, siret: str) -> CompanyRecord: ...


def parse_search_answer(payload: dict[str, Any], siret: str) -> CompanyRecord:
    """The establishment `siret` in an answer of GET /search?q=<siret>."""
    for unit in payload.get("results") or []:
        establishments = list(unit.get("matching_etablissements") or [])
        if unit.get("siege"):
            establishments.append(unit["siege"])
        for establishment in establishments:
            if establishment.get("siret") != siret:
                continue
            code = str(unit.get("nature_juridique") or "")
            return CompanyRecord(
                siret=siret,
                name=unit.get("nom_complet") or unit.get("nom_raison_sociale") or siret,
                legal_form=LEGAL_FORMS.get(code, f"Catégorie juridique {code}" if code else ""),
                address=establishment.get("adresse") or "",
                is_active=establishment.get("etat_administratif") == "A"
                and unit.get("etat_administratif", "A") == "A",
            )
    raise UnknownSiret(f"Le SIRET {siret} est introuvable dans le répertoire des entreprises.")


class RechercheEntreprises:
    """The public API (no key needed; rate-limited to a few calls per second)."""

    def __init__(self, base_url: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def lookup(self, siret: str) -> CompanyRecord:
        import requests

        try:
            response = requests.get(
                f"{self.base_url}/search", params={"q": siret}, timeout=self.timeout
            )
            response.raise_for_status()
            payload = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise DirectoryError(
                "Le répertoire des entreprises ne répond pas ; réessayez dans un instant."
            ) from exc
        return parse_search_answer(payload, siret)


class SandboxDirectory:
    """Recorded answers of the API, used offline (development and tests)."""

    def __init__(self, path: Path = SANDBOX_FILE):
        self.answers: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["answers"]

    def lookup(self, siret: str) -> CompanyRecord:
        return parse_search_answer(self.answers.get(siret, {"results": []}), siret)


def company_directory() -> CompanyDirectory:
    if current_app.config["DIRECTORY_BACKEND"] == "sandbox":
        return SandboxDirectory()
    return RechercheEntreprises(current_app.config["DIRECTORY_API_URL"])


def refresh_organization(organization: Organization, *, force: bool = False) -> bool:
    """Update the organisation from the register unless refreshed within the interval.

    Returns whether it asked the register. A register outage keeps the known details.
    """
    interval = timedelta(seconds=current_app.config["DIRECTORY_REFRESH_INTERVAL"])
    refreshed = organization.directory_refreshed_at
    if not force and refreshed is not None and utcnow() - refreshed < interval:
        return False
    _apply(organization, company_directory().lookup(organization.siret))
    return True


def refresh_all(*, force: bool = False) -> tuple[int, list[tuple[str, str]]]:
    """Refresh every organisation due (daily, by beat or `datapass refresh-organizations`).

    Returns how many were asked about and, for those the register could not answer, (siret,
    reason): their known details are kept.
    """
    refreshed, failures = 0, []
    for organization in db.session.scalars(select(Organization).order_by(Organization.id)):
        try:
            refreshed += refresh_organization(organization, force=force)
        except DirectoryError as exc:
            failures.append((organization.siret, str(exc)))
    db.session.commit()
    return refreshed, failures


def _apply(organization: Organization, record: CompanyRecord) -> None:
    organization.name = record.name
    organization.legal_form = record.legal_form
    organization.address = record.address
    organization.is_active = record.is_active
    organization.directory_refreshed_at = utcnow()


def organization_for_siret(siret: str) -> Organization:
    """The organisation of `siret`, created from the register on first sight, kept fresh.

    Raises InvalidSiret for a malformed number and DirectoryError when the register does not
    know it (a new organisation) — an existing one keeps its details through an outage.
    """
    siret = normalize_siret(siret)
    organization = db.session.scalar(select(Organization).where(Organization.siret == siret))
    if organization is None:
        organization = Organization(siret=siret)
        _apply(organization, company_directory().lookup(siret))
        db.session.add(organization)
        db.session.flush()
        return organization
    try:
        refresh_organization(organization)
    except DirectoryError:
        current_app.logger.warning("register unreachable, keeping %s as known", siret)
    return organization
