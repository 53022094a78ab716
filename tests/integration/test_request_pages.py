"""The applicant's pages through the test client: start, each step, summary, submit, follow."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from datapass.accounts.models import User
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.lifecycle.models import Event
from datapass.requests.models import AuthorizationRequest, Document
from tests.integration.helpers import (
    PDF,
    after_testid,
    error_message,
    field_error,
    file_storage,
    flashes,
    group_errors,
    pdf_upload,
    text,
)

STEPS = ["basic_infos", "legal", "personal_data", "scopes", "contacts", "volumes"]


@pytest.fixture
def me(login_as, applicant):
    return login_as(applicant)


@pytest.fixture
def draft(factory, applicant, org) -> int:
    """An empty draft of API Particulier."""
    return factory.request(applicant, org, complete=False)


def document_names(app, request_id: int) -> list[str]:
    with app.app_context():
        query = select(Document.filename).where(Document.request_id == request_id)
        return list(db.session.scalars(query.order_by(Document.id)))


def step_url(request_id: int, key: str) -> str:
    return f"/requests/{request_id}/steps/{key}"


def contact_form(prefix: str, **values) -> dict[str, str]:
    data = {
        f"{prefix}_given_name": "Dominique",
        f"{prefix}_family_name": "Leroy",
        f"{prefix}_email": f"{prefix}@clamart.fr",
        f"{prefix}_phone_number": "01 46 62 20 01",
        f"{prefix}_job_title": "Directrice",
    }
    data.update({f"{prefix}_{k}": v for k, v in values.items()})
    return data


def all_contacts(**values) -> dict[str, str]:
    data: dict[str, str] = {}
    for prefix in ("responsable_traitement", "delegue_protection_donnees", "contact_technique"):
        data.update(contact_form(prefix, **values))
    return data


# Starting a request


def test_new_request_offers_only_my_organisations_and_starts_a_draft(
    factory, app, me, applicant, org, other_org
):
    page = me.get("/requests/new/api_particulier").text
    options = re.findall(r'<option[^>]*value="(\d+)"', page)
    assert options == [str(org)]
    response = me.post("/requests/new/api_particulier", data={"organization_id": org})
    assert response.status_code == 302
    request_id = int(re.search(r"/requests/(\d+)/steps/basic_infos$", response.location)[1])
    created = factory.get_request(request_id)
    assert (created.state, created.organization_id, created.applicant_id) == (
        "draft",
        org,
        applicant,
    )


def test_new_request_for_another_organisation_is_a_form_error_and_creates_nothing(
    app, me, other_org
):
    response = me.post("/requests/new/api_particulier", data={"organization_id": other_org})
    assert response.status_code == 200
    assert field_error(response.text, "organization_id") == "N'est pas un choix valide."
    with app.app_context():
        assert db.session.scalars(select(AuthorizationRequest)).all() == []


def test_new_request_without_any_organisation_goes_back_to_the_catalogue(factory, login_as):
    lonely = login_as(factory.user())
    response = lonely.get("/requests/new/api_particulier", follow_redirects=True)
    assert response.request.path == "/catalog/api_particulier"
    assert any(
        f.startswith("Votre compte n'est rattaché à aucune organisation")
        for f in flashes(response.text)
    )


def test_new_request_for_an_unknown_definition_is_404(me):
    assert me.get("/requests/new/api_inconnue").status_code == 404


# Steps


def test_basic_infos_errors_are_french_and_next_to_each_field(factory, me, draft):
    response = me.post(step_url(draft, "basic_infos"), data={"intitule": "  ", "description": ""})
    assert response.status_code == 200
    assert field_error(response.text, "intitule") == "Ce champ est obligatoire."
    assert field_error(response.text, "description") == "Ce champ est obligatoire."
    assert "Cette étape contient des erreurs" in response.text
    response = me.post(
        step_url(draft, "basic_infos"), data={"intitule": "x" * 201, "description": "d"}
    )
    assert field_error(response.text, "intitule") == "200 caractères au plus."
    assert field_error(response.text, "description") is None
    assert factory.get_request(draft).data == {}


def test_a_valid_step_is_saved_then_leads_to_the_next_or_stays(factory, me, draft):
    data = {"intitule": "  Cantine  ", "description": "Tarifs sociaux"}
    response = me.post(step_url(draft, "basic_infos"), data=data)
    assert response.status_code == 302
    assert response.location == step_url(draft, "legal")
    assert factory.get_request(draft).data == {
        "intitule": "Cantine",
        "description": "Tarifs sociaux",
    }
    response = me.post(step_url(draft, "basic_infos"), data={**data, "then": "stay"})
    assert response.location == step_url(draft, "basic_infos")
    page = me.get(step_url(draft, "basic_infos")).text
    assert 'value="Cantine"' in page
    assert "Étape 1 sur 6" in page


def test_legal_needs_a_url_or_a_document_and_a_valid_url(factory, me, draft):
    response = me.post(step_url(draft, "legal"), data={"cadre_juridique_nature": "Délibération"})
    assert field_error(response.text, "cadre_juridique_url") == (
        "Indiquez un lien vers le texte ou joignez au moins un document PDF."
    )
    for bad in ("legifrance", "ftp://legifrance.gouv.fr/texte", "javascript://x.fr/%0aalert(1)"):
        response = me.post(
            step_url(draft, "legal"),
            data={"cadre_juridique_nature": "Délibération", "cadre_juridique_url": bad},
        )
        assert field_error(response.text, "cadre_juridique_url") == (
            "Indiquez une adresse web valide (https://…)."
        ), bad
    response = me.post(step_url(draft, "legal"), data={"cadre_juridique_url": "https://a.fr/t"})
    assert field_error(response.text, "cadre_juridique_nature") == "Ce champ est obligatoire."
    assert factory.get_request(draft).data == {}


def test_legal_accepts_pdfs_checked_by_content_and_lists_them(app, factory, me, draft):
    response = me.post(
        step_url(draft, "legal"),
        data={
            "cadre_juridique_nature": "Délibération n° 12",
            "documents": [pdf_upload("délib.pdf"), pdf_upload("annexe.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, field_error(response.text, "documents")
    request_obj = factory.get_request(draft)
    assert request_obj.data["cadre_juridique_nature"] == "Délibération n° 12"
    with app.app_context():
        documents = db.session.scalars(select(Document).where(Document.request_id == draft)).all()
        assert [d.filename for d in documents] == ["delib.pdf", "annexe.pdf"]
    page = me.get(step_url(draft, "legal")).text
    assert "delib.pdf" in after_testid(page, "documents")
    download = me.get(f"/requests/{draft}/documents/{documents[0].id}")
    body = download.get_data()
    download.close()
    assert download.status_code == 200
    assert body == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    # Removing one keeps the other; the step stays valid with the remaining document.
    response = me.post(f"/requests/{draft}/documents/{documents[0].id}/delete")
    assert response.status_code == 302
    with app.app_context():
        left = db.session.scalars(select(Document.filename).where(Document.request_id == draft))
        assert list(left) == ["annexe.pdf"]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            ("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 50),
            "« photo.pdf » n'est pas un document PDF valide.",
        ),
        (("vide.pdf", b""), None),  # an empty file part is no upload at all
        (("tronque.pdf", PDF[:-7]), "« tronque.pdf » n'est pas un document PDF valide."),
    ],
)
def test_legal_rejects_what_is_not_a_pdf_and_saves_nothing(
    app, factory, me, draft, upload, message
):
    name, content = upload
    response = me.post(
        step_url(draft, "legal"),
        data={"cadre_juridique_nature": "Délibération", "documents": [pdf_upload(name, content)]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    if message:
        assert field_error(response.text, "documents") == message
    assert factory.get_request(draft).data == {}
    assert document_names(app, draft) == []


def test_legal_enforces_size_and_count_limits(app, factory, me, draft):
    app.config.update(MAX_DOCUMENT_SIZE=1024 * 1024, MAX_DOCUMENTS=2)
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024) + b"\n%%EOF\n"
    # Encoded in memory: the test client would spool a body this large to an unclosed temp file.
    boundary, body = encode_multipart(
        MultiDict(
            [
                ("cadre_juridique_nature", "Délibération"),
                ("documents", file_storage("gros.pdf", big)),
            ]
        )
    )
    response = me.post(
        step_url(draft, "legal"),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert field_error(response.text, "documents") == (
        "« gros.pdf » dépasse la taille maximale de 1 Mo."
    )
    response = me.post(
        step_url(draft, "legal"),
        data={
            "cadre_juridique_nature": "Délibération",
            "documents": [pdf_upload(f"{i}.pdf") for i in range(3)],
        },
        content_type="multipart/form-data",
    )
    assert field_error(response.text, "documents") == "2 documents au plus par demande."
    assert document_names(app, draft) == []
    assert factory.get_request(draft).data == {}


def test_a_body_over_the_limit_is_a_413_page(app, me, draft):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = me.post(
        step_url(draft, "legal"),
        data={"cadre_juridique_nature": "D", "documents": [pdf_upload("a.pdf", PDF + b"0" * 4096)]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "Le fichier envoyé est trop volumineux." in response.text


@pytest.mark.parametrize(
    ("months", "justification", "error"),
    [
        ("48", "", "Justifiez une durée de conservation supérieure à 36 mois."),
        ("48", "   ", "Justifiez une durée de conservation supérieure à 36 mois."),
        ("36", "", None),
        ("48", "Prescription des créances de cantine.", None),
    ],
)
def test_retention_beyond_36_months_needs_a_justification(
    factory, me, draft, months, justification, error
):
    response = me.post(
        step_url(draft, "personal_data"),
        data={
            "destinataire_donnees_caractere_personnel": "Service enfance",
            "duree_conservation_donnees_caractere_personnel": months,
            "duree_conservation_donnees_caractere_personnel_justification": justification,
        },
    )
    field = "duree_conservation_donnees_caractere_personnel_justification"
    if error:
        assert response.status_code == 200
        assert field_error(response.text, field) == error
        assert factory.get_request(draft).data == {}
    else:
        assert response.status_code == 302
        data = factory.get_request(draft).data
        assert data["duree_conservation_donnees_caractere_personnel"] == int(months)


@pytest.mark.parametrize(
    ("months", "error"),
    [("douze", "Indiquez une durée en mois (nombre entier)."), ("1201", "Entre 1 et 1 200 mois.")],
)
def test_retention_must_be_a_number_of_months(me, draft, months, error):
    response = me.post(
        step_url(draft, "personal_data"),
        data={
            "destinataire_donnees_caractere_personnel": "Service enfance",
            "duree_conservation_donnees_caractere_personnel": months,
        },
    )
    assert error in field_error(response.text, "duree_conservation_donnees_caractere_personnel")


def test_scopes_page_shows_included_checked_and_disabled_locked(factory, login_as, applicant, org):
    me = login_as(applicant)
    cnam = factory.request(applicant, org, definition_id="api_droits_cnam", complete=False)
    particulier = factory.request(applicant, org, complete=False)
    page = me.get(step_url(cnam, "scopes")).text
    included = re.search(r'<input[^>]*id="scope-cnam_droits_ouverts"[^>]*>', page)[0]
    assert "checked" in included and "disabled" in included
    optional = re.search(r'<input[^>]*id="scope-cnam_caisse_rattachement"[^>]*>', page)[0]
    assert "checked" not in optional and "disabled" not in optional
    page = me.get(step_url(particulier, "scopes")).text
    closed = re.search(r'<input[^>]*id="scope-dgfip_avis_imposition"[^>]*>', page)[0]
    assert "disabled" in closed and "checked" not in closed
    assert "Plus proposée" in page


def test_scopes_validation_and_included_scopes_always_saved(factory, login_as, applicant, org):
    me = login_as(applicant)
    particulier = factory.request(applicant, org, complete=False)
    response = me.post(step_url(particulier, "scopes"), data={})
    assert group_errors(response.text, "scopes-error") == ["Sélectionnez au moins une donnée."]
    response = me.post(step_url(particulier, "scopes"), data={"scopes": ["dgfip_avis_imposition"]})
    assert group_errors(response.text, "scopes-error") == [
        "Une donnée demandée n'est pas proposée par cette API."
    ]
    assert "scopes" not in factory.get_request(particulier).data
    response = me.post(
        step_url(particulier, "scopes"), data={"scopes": ["cnaf_rsa", "cnaf_quotient_familial"]}
    )
    assert response.status_code == 302
    assert factory.get_request(particulier).data["scopes"] == ["cnaf_quotient_familial", "cnaf_rsa"]
    cnam = factory.request(applicant, org, definition_id="api_droits_cnam", complete=False)
    response = me.post(step_url(cnam, "scopes"), data={"scopes": ["cnam_caisse_rattachement"]})
    assert response.status_code == 302
    assert factory.get_request(cnam).data["scopes"] == [
        "cnam_droits_ouverts",
        "cnam_caisse_rattachement",
    ]


def test_cest_moi_copies_the_applicant_into_one_contact_without_saving(factory, app, me, draft):
    posted = contact_form("responsable_traitement")
    posted["fill_me"] = "delegue_protection_donnees"
    response = me.post(step_url(draft, "contacts"), data=posted)
    assert response.status_code == 200
    page = response.text

    def value(name: str) -> str:
        return re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)[1]

    assert value("delegue_protection_donnees_email") == "camille.martin@clamart.fr"
    assert value("delegue_protection_donnees_given_name") == "Agent"
    assert value("delegue_protection_donnees_phone_number") == "01 23 45 67 89"
    assert value("delegue_protection_donnees_job_title") == "Chargé de mission"
    assert value("responsable_traitement_email") == "responsable_traitement@clamart.fr"
    assert 'name="contact_technique_email"' in page
    assert "Cette étape contient des erreurs" not in page
    assert factory.get_request(draft).data == {}


def test_contacts_are_checked_field_by_field(factory, me, draft):
    data = all_contacts()
    data["contact_technique_email"] = "pas-une-adresse"
    data["delegue_protection_donnees_phone_number"] = "12"
    data["responsable_traitement_job_title"] = ""
    response = me.post(step_url(draft, "contacts"), data=data)
    assert field_error(response.text, "contact_technique_email") == "Adresse électronique invalide."
    assert field_error(response.text, "delegue_protection_donnees_phone_number") == (
        "Numéro de téléphone invalide (10 chiffres au moins)."
    )
    assert field_error(response.text, "responsable_traitement_job_title") == (
        "Ce champ est obligatoire."
    )
    assert field_error(response.text, "contact_technique_phone_number") is None
    assert factory.get_request(draft).data == {}
    response = me.post(step_url(draft, "contacts"), data=all_contacts())
    assert response.location == step_url(draft, "volumes")
    assert (
        factory.get_request(draft).data["contact_technique_email"] == "contact_technique@clamart.fr"
    )


def test_volumes_offer_the_definitions_choices(factory, me, draft):
    response = me.post(step_url(draft, "volumes"), data={"volumetrie_approximative": "7"})
    assert field_error(response.text, "volumetrie_approximative") == (
        "Choisissez une volumétrie proposée."
    )
    response = me.post(step_url(draft, "volumes"), data={"volumetrie_approximative": "10000"})
    assert response.location == f"/requests/{draft}/summary"
    assert factory.get_request(draft).data["volumetrie_approximative"] == 10000


def test_steps_outside_the_definition_are_404(factory, me, applicant, org, draft):
    entreprise = factory.request(applicant, org, definition_id="api_entreprise", complete=False)
    assert me.get(step_url(entreprise, "personal_data")).status_code == 404
    assert me.get(step_url(draft, "unknown_block")).status_code == 404


def test_a_submitted_request_cannot_be_edited_any_more(factory, me, applicant, org):
    submitted = factory.request(applicant, org, state="submitted")
    title = factory.get_request(submitted).data["intitule"]
    response = me.post(
        step_url(submitted, "basic_infos"), data={"intitule": "Autre", "description": "Autre"}
    )
    assert response.status_code == 302
    assert response.location == f"/requests/{submitted}"
    assert factory.get_request(submitted).data["intitule"] == title
    follow = me.get(response.location)
    assert "Cette demande ne peut plus être modifiée." in flashes(follow.text)
    response = me.post(f"/requests/{submitted}/summary", data={"terms_accepted": "y"})
    assert response.status_code == 409
    assert error_message(response.text) == (
        "Cette demande ne peut plus être modifiée ni soumise dans son état."
    )


# The whole form, the summary and the submission


def test_fill_every_step_then_submit_from_the_summary(app, factory, me, draft):
    posts = {
        "basic_infos": {"intitule": "Cantine", "description": "Tarification sociale"},
        "legal": {
            "cadre_juridique_nature": "Délibération",
            "cadre_juridique_url": "https://a.fr/d",
        },
        "personal_data": {
            "destinataire_donnees_caractere_personnel": "Service enfance",
            "duree_conservation_donnees_caractere_personnel": "12",
        },
        "scopes": {"scopes": ["cnaf_quotient_familial"]},
        "contacts": all_contacts(),
        "volumes": {"volumetrie_approximative": "1000"},
    }
    summary = me.get(f"/requests/{draft}/summary").text
    assert 'data-testid="missing"' in summary
    assert re.search(r'type="submit" disabled>Soumettre la demande', summary)
    response = me.post(
        f"/requests/{draft}/summary", data={"terms_accepted": "y", "dpo_informed": "y"}
    )
    assert "La demande est incomplète : complétez les étapes signalées." in flashes(response.text)
    assert factory.get_request(draft).state == "draft"
    for key in STEPS:
        response = me.post(step_url(draft, key), data=posts[key])
        assert response.status_code == 302, (key, response.text)
    page = me.get(f"/requests/{draft}/summary").text
    assert 'data-testid="missing"' not in page
    for key in STEPS:
        block = after_testid(page, f"block-{key}")
        assert f'href="{step_url(draft, key)}">Modifier' in block
    content = text(page)
    for shown in (
        "Cantine",
        "Tarification sociale",
        "https://a.fr/d",
        "Quotient familial CAF",
        "1 000",
    ):
        assert shown in content
    # Both commitments are required, each with its error next to its checkbox.
    response = me.post(f"/requests/{draft}/summary", data={"terms_accepted": "y"})
    assert response.status_code == 200
    assert group_errors(response.text, "dpo_informed-desc-error") == [
        "Le délégué à la protection des données doit être informé."
    ]
    assert group_errors(response.text, "terms_accepted-desc-error") == []
    response = me.post(f"/requests/{draft}/summary", data={"dpo_informed": "y"})
    assert group_errors(response.text, "terms_accepted-desc-error") == [
        "Vous devez accepter les conditions générales."
    ]
    assert factory.get_request(draft).state == "draft"
    response = me.post(
        f"/requests/{draft}/summary",
        data={"terms_accepted": "y", "dpo_informed": "y"},
        follow_redirects=True,
    )
    assert response.request.path == f"/requests/{draft}"
    assert "Votre demande a été soumise. Vous serez prévenu de la décision." in flashes(
        response.text
    )
    submitted = factory.get_request(draft)
    assert (submitted.state, submitted.terms_accepted, submitted.dpo_informed) == (
        "submitted",
        True,
        True,
    )


# Following a request


def test_follow_page_shows_timeline_messages_and_the_reason(
    app, factory, login_as, applicant, org, instructor
):
    me = login_as(applicant)
    request_id = factory.request(applicant, org, state="submitted")
    staff = login_as(instructor)
    staff.post(f"/requests/{request_id}/messages", data={"body": "Quel public visez-vous ?"})
    with app.app_context():
        version = db.session.get(AuthorizationRequest, request_id).lock_version
    staff.post(
        f"/instruction/requests/{request_id}/decision",
        data={
            "decision": "request_changes",
            "reason": "Précisez la durée.",
            "lock_version": version,
        },
    )
    page = me.get(f"/requests/{request_id}").text
    reason = after_testid(page, "decision-reason")
    assert "Modifications demandées par l'instructeur" in text(reason[:400])
    assert "Précisez la durée." in reason[:600]
    timeline = text(after_testid(page, "timeline"))
    for label in ("Modifications demandées", "Message", "Demande soumise", "Demande créée"):
        assert label in timeline
    assert timeline.index("Modifications demandées") < timeline.index("Demande soumise")
    messages = text(after_testid(page, "messages"))
    assert "Quel public visez-vous ?" in messages
    assert "(instruction)" in messages
    assert "Modifier et soumettre à nouveau" in page
    # The applicant answers from its own page.
    response = me.post(f"/requests/{request_id}/messages", data={"body": "Les familles."})
    assert response.location == f"/requests/{request_id}#messages"
    assert "Les familles." in text(after_testid(me.get(f"/requests/{request_id}").text, "messages"))
    response = me.post(
        f"/requests/{request_id}/messages", data={"body": "   "}, follow_redirects=True
    )
    assert "Le message est vide." in flashes(response.text)


def test_refused_and_validated_requests_show_their_outcome(factory, login_as, applicant, org):
    me = login_as(applicant)
    refused = factory.request(applicant, org, state="refused")
    page = me.get(f"/requests/{refused}").text
    assert "Cadre juridique absent." in after_testid(page, "decision-reason")[:600]
    validated = factory.request(applicant, org, state="validated")
    page = me.get(f"/requests/{validated}").text
    link = re.search(r'href="/authorizations/(\d+)" data-testid="authorization-link"', page)
    assert link
    authorization = me.get(f"/authorizations/{link[1]}")
    assert authorization.status_code == 200
    state = re.search(r'data-testid="authorization-state">([^<]*)<', authorization.text)
    assert state[1] == "Active"


def test_resubmit_after_changes_requested(app, factory, login_as, applicant, org, instructor):
    me = login_as(applicant)
    request_id = factory.request(
        applicant, org, state="changes_requested", instructor_id=instructor
    )
    response = me.post(
        step_url(request_id, "basic_infos"),
        data={"intitule": "Cantine et périscolaire", "description": "Tarifs"},
    )
    assert response.status_code == 302
    response = me.post(
        f"/requests/{request_id}/summary", data={"terms_accepted": "y", "dpo_informed": "y"}
    )
    assert response.status_code == 302
    assert factory.get_request(request_id).state == "submitted"
    with app.app_context():
        submits = db.session.scalars(
            select(Event).where(Event.request_id == request_id, Event.name == "submit")
        ).all()
        assert len(submits) == 2
        assert submits[-1].changes["intitule"][1] == "Cantine et périscolaire"
        assert submits[-1].changes["description"][1] == "Tarifs"


def test_archive_a_draft_and_not_a_submitted_request(factory, me, applicant, org):
    draft = factory.request(applicant, org)
    submitted = factory.request(applicant, org, state="submitted")
    assert "Archiver la demande" in me.get(f"/requests/{draft}").text
    assert "Archiver la demande" not in me.get(f"/requests/{submitted}").text
    response = me.post(f"/requests/{draft}/archive", follow_redirects=True)
    assert "La demande a été archivée." in flashes(response.text)
    assert factory.get_request(draft).state == "archived"
    response = me.post(f"/requests/{submitted}/archive")
    assert response.status_code == 409
    assert "impossible depuis l'état « submitted »" in error_message(response.text)
    assert factory.get_request(submitted).state == "submitted"
    index = me.get("/requests").text
    archived_part = index[index.index("Demandes archivées") :]
    assert f'href="/requests/{draft}"' in archived_part
    assert f'href="/requests/{submitted}"' in index[: index.index("Demandes archivées")]


def test_index_lists_only_my_organisations_requests(
    factory, me, applicant, org, outsider, other_org
):
    mine = factory.request(applicant, org)
    theirs = factory.request(outsider, other_org)
    page = me.get("/requests").text
    assert f'href="/requests/{mine}"' in page
    assert f'href="/requests/{theirs}"' not in page


def test_a_colleague_sees_the_request_but_only_the_applicant_edits_it(
    factory, login_as, applicant, org
):
    colleague = login_as(factory.user(organizations=(org,)))
    draft = factory.request(applicant, org)
    page = colleague.get(f"/requests/{draft}").text
    assert 'data-testid="edit-request"' not in page
    assert "Archiver la demande" not in page
    response = colleague.post(
        step_url(draft, "basic_infos"), data={"intitule": "X", "description": "Y"}
    )
    assert response.status_code == 302 and response.location == f"/requests/{draft}"
    assert factory.get_request(draft).data["intitule"] != "X"
    assert colleague.post(f"/requests/{draft}/archive").status_code == 403
    assert factory.get_request(draft).state == "draft"


def test_another_organisations_request_is_404_on_every_page(
    app, factory, login_as, applicant, org, outsider
):
    request_id = factory.request(applicant, org, state="submitted")
    draft = factory.request(applicant, org)
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, draft)
        document = services.add_documents(
            request_obj, db.session.get(User, applicant), [file_storage()]
        )[0]
        db.session.commit()
        document_id = document.id
    stranger = login_as(outsider)
    for rid in (request_id, draft):
        gets = [
            f"/requests/{rid}",
            f"/requests/{rid}/summary",
            step_url(rid, "basic_infos"),
            f"/requests/{rid}/documents/{document_id}",
        ]
        posts = [
            (f"/requests/{rid}/summary", {"terms_accepted": "y", "dpo_informed": "y"}),
            (step_url(rid, "basic_infos"), {"intitule": "Volé", "description": "Volé"}),
            (f"/requests/{rid}/archive", {}),
            (f"/requests/{rid}/messages", {"body": "Bonjour"}),
            (f"/requests/{rid}/documents/{document_id}/delete", {}),
        ]
        for url in gets:
            response = stranger.get(url)
            assert response.status_code == 404, url
            assert "Page introuvable" in response.text
        for url, data in posts:
            assert stranger.post(url, data=data).status_code == 404, url
    assert factory.get_request(draft).data["intitule"] != "Volé"
    assert factory.get_request(draft).state == "draft"
    with app.app_context():
        assert db.session.get(Document, document_id) is not None
        assert db.session.scalars(select(Event).where(Event.name == "message")).all() == []
