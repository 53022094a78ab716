"""Demo data for the embedded default: organisations, accounts for every role, a few requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from datapass.accounts.models import Membership, Organization, Role, User
from datapass.catalog import all_definitions
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.requests.blocks import CONTACTS, contact_from_user
from workflows.loader import Definition

DEMO_DOMAIN = "demo.datapass.fr"

ORGANIZATIONS = [
    ("21920023500014", "Commune de Clamart"),
    ("21690123100011", "Ville de Lyon"),
    ("21750001600019", "Ville de Paris"),
    ("13002526500013", "Direction interministérielle du numérique (DINUM)"),
]

APPLICANTS = [
    # email, given name, family name, job title, phone, SIRETs
    (
        "demandeur",
        "Camille",
        "Martin",
        "Cheffe de projet numérique",
        "01 46 62 20 00",
        ["21920023500014", "21690123100011"],
    ),
    (
        "demandeur.paris",
        "Paul",
        "Durand",
        "Responsable des systèmes d'information",
        "01 42 76 40 40",
        ["21750001600019"],
    ),
]

COMPLETE_DATA = {
    "intitule": "Tarification sociale de la restauration scolaire",
    "description": "Calculer automatiquement le tarif de cantine des familles à partir de leur "
    "quotient familial, sans leur demander d'attestation.",
    "cadre_juridique_nature": "Délibération du conseil municipal n° 2024-117 du 12 décembre 2024",
    "cadre_juridique_url": "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000031366350",
    "destinataire_donnees_caractere_personnel": "Agents du service enfance et éducation",
    "duree_conservation_donnees_caractere_personnel": 12,
    "duree_conservation_donnees_caractere_personnel_justification": "",
}


# Per definition: role, e-mail local part, given name.
DEMO_ROLES = [
    ("manager", "gestionnaire", "Gestionnaire"),
    ("instructor", "instructeur", "Instructeur"),
    ("reporter", "rapporteur", "Rapporteur"),
    ("developer", "developpeur", "Développeur"),
]


def _verified(organization: Organization) -> Membership:
    """Demo memberships are verified, as the identity provider would have done."""
    return Membership(
        organization=organization,
        verified=True,
        verified_by="admin",
        verification_reason="Données de démonstration",
        verified_at=datetime.now(UTC),
    )


def _short(definition_id: str) -> str:
    return definition_id.removeprefix("api_").replace("_", "-")


def complete_request_data(definition: Definition, user: User) -> dict[str, Any]:
    """Data that fills every block of `definition`, the user being every contact."""
    data: dict[str, Any] = dict(COMPLETE_DATA)
    for prefix in CONTACTS:
        data.update(contact_from_user(prefix, user))
    chosen = {s.value for s in definition.scopes if s.included}
    chosen |= {s.value for s in definition.grantable_scopes[:2]}
    data["scopes"] = [s.value for s in definition.scopes if s.value in chosen]
    if definition.volumes:
        data["volumetrie_approximative"] = definition.volumes[0]
    return data


def seed_demo() -> bool:
    """Create the demo data unless accounts already exist; returns whether it created anything."""
    if db.session.scalar(select(User).limit(1)) is not None:
        return False
    orgs = {siret: Organization(siret=siret, name=name) for siret, name in ORGANIZATIONS}
    db.session.add_all(orgs.values())
    applicants = []
    for local, given, family, job, phone, sirets in APPLICANTS:
        user = User(
            email=f"{local}@{DEMO_DOMAIN}",
            given_name=given,
            family_name=family,
            job_title=job,
            phone_number=phone,
        )
        user.memberships = [_verified(orgs[s]) for s in sirets]
        db.session.add(user)
        applicants.append(user)
    for definition in all_definitions().values():
        short = _short(definition.id)
        for role, local, given in DEMO_ROLES:
            user = User(
                email=f"{local}.{short}@{DEMO_DOMAIN}",
                given_name=given,
                family_name=definition.name,
                job_title=f"{given} {definition.provider.name}",
                phone_number="01 00 00 00 00",
            )
            user.memberships = [_verified(orgs["13002526500013"])]
            user.roles = [Role(definition_id=definition.id, role=role)]
            db.session.add(user)
    db.session.add(
        User(
            email=f"admin@{DEMO_DOMAIN}",
            given_name="Alex",
            family_name="Admin",
            job_title="Administrateur datapass",
            is_admin=True,
        )
    )
    db.session.flush()
    _demo_requests(applicants[0], orgs["21920023500014"])
    return True


def _demo_requests(applicant: User, organization: Organization) -> None:
    """A draft and a submitted request, so that both sides have something to look at."""
    definitions = all_definitions()
    particulier = definitions["api_particulier"]
    draft = services.start_request(applicant, particulier, organization)
    services.save_step(draft, applicant, {"intitule": "Inscriptions au conservatoire"})

    submitted = services.start_request(applicant, particulier, organization)
    services.save_step(submitted, applicant, complete_request_data(particulier, applicant))
    services.submit_request(submitted, applicant, terms_accepted=True, dpo_informed=True)
