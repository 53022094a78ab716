"""The enrollment journey in a real browser, driven like a user: French labels, visible text.

Catalogue -> request filled step by step -> submit -> changes requested -> resubmit ->
validated -> authorization and its credential; plus the read-only and forbidden views.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e

APPLICANT = "demandeur@demo.datapass.fr"
OTHER_APPLICANT = "demandeur.paris@demo.datapass.fr"
INSTRUCTOR = "instructeur.particulier@demo.datapass.fr"
REPORTER = "rapporteur.particulier@demo.datapass.fr"
TITLE = "Aide aux vacances des familles"
DECISION_BUTTONS = ("Valider la demande", "Demander des modifications", "Refuser la demande")


def tiny_pdf(path: Path) -> Path:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(body)
    return path


def flash(page: Page, text: str) -> None:
    expect(
        page.get_by_role("status").or_(page.get_by_role("alert")).filter(has_text=text)
    ).to_be_visible()


def choose_account(page: Page, email: str) -> None:
    """On the development login page, sign in with the account's row."""
    accounts = page.get_by_role("table", name="Comptes de démonstration")
    row = accounts.get_by_role("row").filter(has=page.get_by_text(email, exact=True))
    row.get_by_role("button", name="Se connecter").click()
    flash(page, "Vous êtes connecté en tant que")


def sign_in(page: Page, email: str) -> None:
    page.get_by_role("link", name="Se connecter", exact=True).click()
    choose_account(page, email)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    flash(page, "Vous êtes déconnecté.")


def save_and_continue(page: Page, step_title: str) -> None:
    page.get_by_role("button", name="Enregistrer et continuer").click()
    flash(page, f"Étape « {step_title} » enregistrée.")


def contact(page: Page, name: str):
    return page.get_by_role("group", name=name)


def tick(page: Page, label: str) -> None:
    """Tick a DSFR checkbox by clicking its label (the label covers the styled box)."""
    page.locator("label").filter(has_text=label).click()
    expect(page.get_by_role("checkbox", name=label)).to_be_checked()


def accept_and_submit(page: Page) -> None:
    tick(page, "J'accepte les conditions générales d'utilisation de l'API")
    tick(page, "Je confirme que le délégué à la protection des données")
    page.get_by_role("button", name="Soumettre la demande").click()
    flash(page, "Votre demande a été soumise.")
    expect(page.get_by_test_id("state")).to_have_text("En cours d'instruction")


def open_from_queue(page: Page, title: str) -> None:
    page.get_by_role("link", name="Instruction", exact=True).click()
    expect(page.get_by_role("heading", name="Demandes à instruire")).to_be_visible()
    page.get_by_label("Rechercher").fill(title)
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_test_id("queue-total")).to_have_text("1 demande")
    page.get_by_role("table").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def decide(page: Page, button: str, label: str, reason: str) -> None:
    """Fill the decision form of `button` (each decision has its own form) and send it."""
    form = page.locator("form").filter(has=page.get_by_role("button", name=button))
    form.get_by_label(label).fill(reason)
    form.get_by_role("button", name=button).click()


def open_my_request(page: Page, title: str) -> None:
    page.get_by_role("link", name="Mes demandes").click()
    page.get_by_test_id("requests-table").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def demo_submitted_request(app) -> tuple[int, str]:
    """The submitted API Particulier request of the demo data: (id, title)."""
    from datapass.extensions import db
    from datapass.requests.models import AuthorizationRequest

    with app.app_context():
        request_obj = db.session.scalar(
            select(AuthorizationRequest).where(AuthorizationRequest.state == "submitted")
        )
        return request_obj.id, request_obj.title


def test_request_from_catalogue_to_validated_authorization(page: Page, live_server, tmp_path):
    # Catalogue, then the API's page; signing in from there comes back to the new request.
    page.goto("/")
    expect(page.get_by_role("heading", name="Catalogue des API à accès restreint")).to_be_visible()
    page.get_by_role("link", name="API Particulier", exact=True).click()
    expect(page.get_by_role("heading", name="API Particulier", level=1)).to_be_visible()
    expect(page.get_by_text("Quotient familial CAF")).to_be_visible()
    page.get_by_role("link", name="Se connecter pour faire une demande").click()
    choose_account(page, APPLICANT)

    expect(page.get_by_role("heading", name="Demande d'accès à API Particulier")).to_be_visible()
    page.get_by_label("Organisation pour laquelle vous faites la demande").select_option(
        label="Commune de Clamart — SIRET 21920023500014"
    )
    page.get_by_role("button", name="Commencer la demande").click()

    # 1. Basic infos.
    expect(page.get_by_role("heading", name="Informations générales")).to_be_visible()
    request_id = int(re.search(r"/requests/(\d+)/steps/", page.url).group(1))
    page.get_by_label("Intitulé de la demande").fill(TITLE)
    page.get_by_label("Description du cas d'usage").fill(
        "Calculer l'aide aux vacances à partir du quotient familial, sans justificatif."
    )
    save_and_continue(page, "Informations générales")

    # 2. Legal basis, with a PDF instead of a link.
    expect(page.get_by_role("heading", name="Cadre juridique")).to_be_visible()
    page.get_by_label("Nature et référence du cadre juridique").fill(
        "Délibération du conseil municipal n° 2025-42"
    )
    page.get_by_label("Documents (PDF)").set_input_files(tiny_pdf(tmp_path / "deliberation.pdf"))
    save_and_continue(page, "Cadre juridique")

    # 3. Personal data: a retention beyond 36 months needs a justification, said beside it.
    expect(page.get_by_role("heading", name="Données personnelles")).to_be_visible()
    page.get_by_label("Destinataires des données").fill("Agents du service enfance")
    page.get_by_label("Durée de conservation des données (en mois)").fill("48")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    expect(page.get_by_text("Cette étape contient des erreurs")).to_be_visible()
    justification = page.get_by_label("Justification de la durée de conservation")
    expect(justification).to_have_accessible_description(
        "Justifiez une durée de conservation supérieure à 36 mois."
    )
    expect(page.locator(".fr-input-group--error").filter(has=justification)).to_contain_text(
        "Justifiez une durée de conservation supérieure à 36 mois."
    )
    expect(page.get_by_label("Durée de conservation des données (en mois)")).to_have_value("48")
    justification.fill("Durée de la prescription des aides indûment versées.")
    save_and_continue(page, "Données personnelles")

    # 4. Scopes.
    expect(page.get_by_role("heading", name="Données demandées")).to_be_visible()
    tick(page, "Quotient familial CAF")
    save_and_continue(page, "Données demandées")

    # 5. Contacts: "C'est moi" copies the applicant's profile into one contact.
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    controller = contact(page, "Responsable de traitement")
    controller.get_by_role("button", name="C'est moi").click()
    controller = contact(page, "Responsable de traitement")
    expect(controller.get_by_label("Prénom")).to_have_value("Camille")
    expect(controller.get_by_label("Adresse électronique")).to_have_value(APPLICANT)
    for name, (given, family, email, job) in {
        "Délégué à la protection des données": (
            "Dominique",
            "Petit",
            "dpo@clamart.fr",
            "Déléguée à la protection des données",
        ),
        "Contact technique": ("Sacha", "Bernard", "dsi@clamart.fr", "Développeur"),
    }.items():
        group = contact(page, name)
        group.get_by_label("Prénom").fill(given)
        group.get_by_label("Nom", exact=True).fill(family)
        group.get_by_label("Adresse électronique").fill(email)
        group.get_by_label("Téléphone").fill("01 46 62 35 35")
        group.get_by_label("Fonction").fill(job)
    save_and_continue(page, "Contacts")

    # 6. Volumes, then the summary.
    page.get_by_label("Nombre d'appels prévus par jour").select_option(
        label="10\u202f000 appels / jour"
    )
    save_and_continue(page, "Volumétrie")
    expect(
        page.get_by_role("heading", name=f"Récapitulatif de la demande n°{request_id}")
    ).to_be_visible()
    expect(page.get_by_test_id("block-basic_infos")).to_contain_text(TITLE)
    expect(page.get_by_test_id("documents")).to_contain_text("deliberation.pdf")
    expect(page.get_by_test_id("block-scopes")).to_contain_text("Quotient familial CAF")
    expect(page.get_by_test_id("block-contacts")).to_contain_text("dpo@clamart.fr")
    expect(page.get_by_test_id("block-volumes")).to_contain_text("10 000")
    accept_and_submit(page)
    sign_out(page)

    # The instructor finds it in the queue and asks for changes.
    sign_in(page, INSTRUCTOR)
    open_from_queue(page, TITLE)
    expect(page.get_by_test_id("documents")).to_contain_text("deliberation.pdf")
    reason = "Précisez le public concerné par l'aide aux vacances."
    decide(page, "Demander des modifications", "Motif (obligatoire)", reason)
    flash(page, "Modifications demandées.")
    expect(page.get_by_test_id("state")).to_have_text("Modifications demandées")
    sign_out(page)

    # The applicant reads the reason, edits a step and resubmits.
    sign_in(page, APPLICANT)
    open_my_request(page, TITLE)
    expect(page.get_by_test_id("decision-reason")).to_contain_text(reason)
    page.get_by_role("link", name="Modifier et soumettre à nouveau").click()
    page.get_by_role("link", name="Modifier « Informations générales »").click()
    page.get_by_label("Description du cas d'usage").fill(
        "Calculer l'aide aux vacances des familles de 3 à 17 ans à partir du quotient familial."
    )
    save_and_continue(page, "Informations générales")
    page.get_by_role("link", name="Récapitulatif et envoi").click()
    expect(page.get_by_test_id("block-basic_infos")).to_contain_text("de 3 à 17 ans")
    accept_and_submit(page)
    sign_out(page)

    # The instructor sees what changed and validates.
    sign_in(page, INSTRUCTOR)
    open_from_queue(page, TITLE)
    expect(page.get_by_test_id("changes")).to_contain_text("de 3 à 17 ans")
    decide(page, "Valider la demande", "Message au demandeur (facultatif)", "Bonne intégration !")
    flash(page, "Demande validée : habilitation n°")
    expect(page.get_by_test_id("state")).to_have_text("Validée")
    sign_out(page)

    # The applicant sees the validated request, its authorization and the credential.
    sign_in(page, APPLICANT)
    open_my_request(page, TITLE)
    expect(page.get_by_test_id("state")).to_have_text("Validée")
    expect(page.get_by_test_id("decision-reason")).to_contain_text("Demande validée")
    page.get_by_role("link", name="Voir l'habilitation").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Habilitation n°\d+$"))).to_be_visible()
    expect(page.get_by_test_id("authorization-state")).to_have_text("Active")
    expect(page.get_by_text(f"à partir de la demande n°{request_id}")).to_be_visible()
    expect(page.get_by_test_id("block-scopes")).to_contain_text("Quotient familial CAF")
    client_id = page.get_by_test_id("client-id")
    expect(client_id).to_have_text(re.compile(r"^dp_[0-9a-f]{32}$"))

    from datapass.authorizations.models import Authorization
    from datapass.extensions import db
    from datapass.oauth.services import credential_for

    with live_server.app.app_context():
        authorization = db.session.scalar(
            select(Authorization).where(Authorization.request_id == request_id)
        )
        assert page.url.endswith(f"/authorizations/{authorization.id}")
        expect(client_id).to_have_text(credential_for(authorization).client_id)


def test_reporter_sees_the_request_read_only(page: Page, live_server):
    request_id, title = demo_submitted_request(live_server.app)
    page.goto("/")
    sign_in(page, REPORTER)
    open_from_queue(page, title)
    expect(page.get_by_text(f"Demande n°{request_id} · API Particulier")).to_be_visible()
    expect(page.get_by_text("Lecture seule : vous êtes rapporteur de cette API.")).to_be_visible()
    expect(page.get_by_test_id("block-basic_infos")).to_contain_text(title)
    for button in DECISION_BUTTONS:
        expect(page.get_by_role("button", name=button)).to_have_count(0)
    expect(page.get_by_test_id("decisions")).to_have_count(0)


def test_applicant_of_another_organisation_gets_the_404_page(page: Page, live_server):
    request_id, title = demo_submitted_request(live_server.app)
    page.goto("/")
    sign_in(page, OTHER_APPLICANT)
    response = page.goto(f"/requests/{request_id}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    expect(page.get_by_test_id("error-message")).to_contain_text("vous n'y avez pas accès")
    expect(page.get_by_text(title)).to_have_count(0)


def test_a_form_post_without_its_csrf_token_is_refused(page: Page, live_server):
    # The live server runs with CSRF on: the journey's forms pass because they carry the token.
    page.goto("/")
    sign_in(page, APPLICANT)
    response = page.request.post("/logout")  # the session cookie, but no token
    assert response.status == 400
    page.reload()
    expect(page.get_by_test_id("current-user")).to_have_text("Camille Martin")
