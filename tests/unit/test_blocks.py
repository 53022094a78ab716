"""Each form block of a request validated on its own (datapass/requests/blocks.py).

The forms run in a request context of a real app (no database access); requests and users are
transient model instances, never saved.
"""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from datapass.accounts.models import User
from datapass.requests.blocks import (
    BLOCKS,
    CONTACTS,
    REQUIRED,
    BasicInfosForm,
    ContactsForm,
    LegalForm,
    PersonalDataForm,
    ScopesForm,
    VolumesForm,
    contact_from_user,
    data_keys,
    incomplete_blocks,
)
from datapass.requests.models import AuthorizationRequest, Document
from workflows.loader import BLOCK_KEYS, Definition

DEFINITION = Definition.model_validate(
    {
        "id": "api_test",
        "name": "API Test",
        "provider": {"slug": "dinum", "name": "DINUM"},
        "description": "Une API de test.",
        "access": "Accès restreint.",
        "documentation_url": "https://api.gouv.fr/documentation/api-test",
        "terms_url": "https://api.gouv.fr/cgu/api-test",
        "blocks": list(BLOCK_KEYS),
        "scopes": [
            {"value": "identite", "label": "Identité", "included": True},
            {"value": "adresse", "label": "Adresse"},
            {"value": "revenus", "label": "Revenus"},
            {"value": "ancienne", "label": "Ancienne donnée", "disabled": True},
        ],
        "volumes": [1000, 10000],
    }
)
NO_INCLUDED = DEFINITION.model_copy(
    update={"scopes": [s for s in DEFINITION.scopes if not s.included]}
)

VALID = {
    "basic_infos": {"intitule": "Tarification sociale de la cantine", "description": "Calcul."},
    "legal": {
        "cadre_juridique_nature": "Délibération du conseil municipal n° 2024-12",
        "cadre_juridique_url": "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000006796",
    },
    "personal_data": {
        "destinataire_donnees_caractere_personnel": "Agents du service enfance",
        "duree_conservation_donnees_caractere_personnel": "24",
    },
    "scopes": {"scopes": ["adresse"]},
    "contacts": {
        f"{prefix}_{name}": value
        for prefix in CONTACTS
        for name, value in {
            "given_name": "Camille",
            "family_name": "Martin",
            "email": "camille.martin@clamart.fr",
            "phone_number": "01 23 45 67 89",
            "job_title": "DPO",
        }.items()
    },
    "volumes": {"volumetrie_approximative": "1000"},
}


@pytest.fixture(autouse=True)
def request_context(unit_app):
    with unit_app.test_request_context(method="POST"):
        yield


def _form(form_class, data, definition=DEFINITION, request_obj=None):
    formdata = MultiDict()
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            formdata.add(name, item)
    return form_class(
        formdata=formdata, definition=definition, request_obj=request_obj, meta={"csrf": False}
    )


def _errors(form_class, data, **kwargs) -> dict[str, list[str]]:
    form = _form(form_class, data, **kwargs)
    assert not form.validate()
    return form.errors


def _with(block: str, **changes) -> dict:
    return {**VALID[block], **changes}


def _without(block: str, name: str) -> dict:
    return {k: v for k, v in VALID[block].items() if k != name}


def _pdf_upload(name: str = "deliberation.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename=name)


@pytest.mark.parametrize("key", list(BLOCKS))
def test_valid_data_passes_every_block(key):
    form = _form(BLOCKS[key].form_class, VALID[key])
    assert form.validate(), form.errors


def test_blocks_cover_the_definition_blocks():
    assert tuple(BLOCKS) == BLOCK_KEYS


# --- basic infos ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["intitule", "description"])
def test_basic_infos_fields_are_required(name):
    assert _errors(BasicInfosForm, _with("basic_infos", **{name: "   "})) == {name: [REQUIRED]}


def test_basic_infos_title_length():
    errors = _errors(BasicInfosForm, _with("basic_infos", intitule="x" * 201))
    assert errors == {"intitule": ["200 caractères au plus."]}


def test_basic_infos_data_is_stripped():
    form = _form(BasicInfosForm, _with("basic_infos", intitule="  Cantine  "))
    assert form.validate()
    assert form.to_data()["intitule"] == "Cantine"
    assert "csrf_token" not in form.to_data()


# --- legal basis ----------------------------------------------------------------------------


def test_legal_needs_its_nature():
    errors = _errors(LegalForm, _without("legal", "cadre_juridique_nature"))
    assert errors == {"cadre_juridique_nature": [REQUIRED]}


def test_legal_needs_a_url_or_a_pdf():
    errors = _errors(LegalForm, _without("legal", "cadre_juridique_url"))
    assert errors == {
        "cadre_juridique_url": [
            "Indiquez un lien vers le texte ou joignez au moins un document PDF."
        ]
    }


def test_legal_accepts_an_uploaded_pdf_instead_of_a_url():
    form = _form(
        LegalForm, {**_without("legal", "cadre_juridique_url"), "documents": _pdf_upload()}
    )
    assert form.validate(), form.errors
    assert "documents" not in form.to_data()


def test_legal_accepts_documents_already_attached_to_the_request():
    request_obj = AuthorizationRequest(data={})
    request_obj.documents.append(
        Document(filename="deliberation.pdf", size=10, sha256="0" * 64, uploaded_by_id=1)
    )
    form = _form(LegalForm, _without("legal", "cadre_juridique_url"), request_obj=request_obj)
    assert form.validate(), form.errors


def test_legal_an_empty_file_input_is_not_a_document():
    data = {**_without("legal", "cadre_juridique_url"), "documents": FileStorage(filename="")}
    assert "cadre_juridique_url" in _errors(LegalForm, data)


@pytest.mark.parametrize(
    "url",
    [
        "pas une adresse",
        "javascript:alert(1)",
        "ftp://www.legifrance.gouv.fr/texte.pdf",
        "https://localhost/texte",
        "www.legifrance.gouv.fr/texte",
    ],
)
def test_legal_refuses_a_bad_url_once(url):
    errors = _errors(LegalForm, _with("legal", cadre_juridique_url=url))
    assert errors == {"cadre_juridique_url": ["Indiquez une adresse web valide (https://…)."]}


def test_legal_documents_hint_states_the_configured_limits(unit_app):
    form = _form(LegalForm, {})
    assert form.documents.description == (
        "Si le texte n'est pas en ligne : jusqu'à 5 documents PDF, 4 ko au plus chacun."
    )
    assert unit_app.config["MAX_DOCUMENT_SIZE"] == 4096


def test_legal_accepts_http_and_https():
    for url in ("http://www.mairie.fr/deliberation-12", "HTTPS://www.legifrance.gouv.fr/x"):
        form = _form(LegalForm, _with("legal", cadre_juridique_url=url))
        assert form.validate(), (url, form.errors)


# --- personal data --------------------------------------------------------------------------

RETENTION = "duree_conservation_donnees_caractere_personnel"
JUSTIFICATION = "duree_conservation_donnees_caractere_personnel_justification"
NEEDS_JUSTIFICATION = "Justifiez une durée de conservation supérieure à 36 mois."


def test_retention_up_to_36_months_needs_no_justification():
    assert _form(PersonalDataForm, _with("personal_data", **{RETENTION: "36"})).validate()


@pytest.mark.parametrize("justification", [None, "", "   \n "])
def test_retention_beyond_36_months_needs_a_justification(justification):
    data = _with("personal_data", **{RETENTION: "37"})
    if justification is not None:
        data[JUSTIFICATION] = justification
    assert _errors(PersonalDataForm, data) == {JUSTIFICATION: [NEEDS_JUSTIFICATION]}


def test_retention_beyond_36_months_with_a_justification():
    data = _with("personal_data", **{RETENTION: "60", JUSTIFICATION: "Prescription quinquennale."})
    form = _form(PersonalDataForm, data)
    assert form.validate(), form.errors
    assert form.to_data()[RETENTION] == 60


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Indiquez une durée en mois (nombre entier)."),
        ("douze", "Indiquez une durée en mois (nombre entier)."),
        ("0", "Indiquez une durée en mois (nombre entier)."),
        ("-3", "Entre 1 et 1 200 mois."),
        ("1201", "Entre 1 et 1 200 mois."),
    ],
)
def test_retention_must_be_a_number_of_months(value, message):
    data = _with("personal_data", **{RETENTION: value, JUSTIFICATION: "Archives publiques."})
    assert _errors(PersonalDataForm, data) == {RETENTION: [message]}


def test_personal_data_recipients_are_required():
    errors = _errors(
        PersonalDataForm, _without("personal_data", "destinataire_donnees_caractere_personnel")
    )
    assert errors == {"destinataire_donnees_caractere_personnel": [REQUIRED]}


# --- scopes ---------------------------------------------------------------------------------

NOT_OFFERED = "Une donnée demandée n'est pas proposée par cette API."


def test_scopes_offer_only_grantable_scopes():
    form = _form(ScopesForm, {})
    assert [value for value, _ in form.scopes.choices] == ["identite", "adresse", "revenus"]


@pytest.mark.parametrize("value", ["fiscal", "ancienne"], ids=["unknown", "disabled"])
def test_scopes_refuse_a_scope_not_offered(value):
    errors = _errors(ScopesForm, {"scopes": ["adresse", value]})
    assert errors == {"scopes": [NOT_OFFERED]}


def test_scopes_force_included_scopes_in_definition_order():
    form = _form(ScopesForm, {"scopes": ["revenus", "adresse"]})
    assert form.validate(), form.errors
    assert form.to_data() == {"scopes": ["identite", "adresse", "revenus"]}
    assert "identite" in form.scopes.data  # shown checked


def test_scopes_with_only_included_scopes_is_valid():
    form = _form(ScopesForm, {})
    assert form.validate(), form.errors
    assert form.to_data() == {"scopes": ["identite"]}


def test_scopes_need_at_least_one_without_included_scopes():
    errors = _errors(ScopesForm, {}, definition=NO_INCLUDED)
    assert errors == {"scopes": ["Sélectionnez au moins une donnée."]}


def test_scopes_duplicates_are_stored_once():
    form = _form(ScopesForm, {"scopes": ["adresse", "adresse"]}, definition=NO_INCLUDED)
    assert form.validate()
    assert form.to_data() == {"scopes": ["adresse"]}


# --- contacts -------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", list(CONTACTS))
@pytest.mark.parametrize(
    "name", ["given_name", "family_name", "email", "phone_number", "job_title"]
)
def test_contact_fields_are_required(prefix, name):
    errors = _errors(ContactsForm, _without("contacts", f"{prefix}_{name}"))
    assert errors == {f"{prefix}_{name}": [REQUIRED]}


@pytest.mark.parametrize(
    "email", ["camille", "camille@", "camille martin@clamart.fr", "@clamart.fr"]
)
def test_contact_email_must_be_valid(email):
    errors = _errors(ContactsForm, _with("contacts", contact_technique_email=email))
    assert errors == {"contact_technique_email": ["Adresse électronique invalide."]}


@pytest.mark.parametrize(
    "phone", ["123", "01 23 45", "zéro un vingt-trois", "0123456789012345678901"]
)
def test_contact_phone_must_be_valid(phone):
    errors = _errors(ContactsForm, _with("contacts", delegue_protection_donnees_phone_number=phone))
    assert errors == {
        "delegue_protection_donnees_phone_number": [
            "Numéro de téléphone invalide (10 chiffres au moins)."
        ]
    }


@pytest.mark.parametrize(
    "phone", ["0123456789", "+33 1 23 45 67 89", "01.23.45.67.89", "(0)1-23-45-67-89"]
)
def test_contact_phone_formats_accepted(phone):
    form = _form(ContactsForm, _with("contacts", contact_technique_phone_number=phone))
    assert form.validate(), form.errors


def test_contact_from_user_copies_the_profile():
    user = User(
        email="camille.martin@clamart.fr",
        given_name="Camille",
        family_name="Martin",
        phone_number="01 23 45 67 89",
        job_title=None,
    )
    assert contact_from_user("contact_technique", user) == {
        "contact_technique_given_name": "Camille",
        "contact_technique_family_name": "Martin",
        "contact_technique_email": "camille.martin@clamart.fr",
        "contact_technique_phone_number": "01 23 45 67 89",
        "contact_technique_job_title": "",
    }


def test_contact_from_a_complete_profile_fills_the_block():
    user = User(
        email="camille.martin@clamart.fr",
        given_name="Camille",
        family_name="Martin",
        phone_number="01 23 45 67 89",
        job_title="Secrétaire générale",
    )
    data = {}
    for prefix in CONTACTS:
        data.update(contact_from_user(prefix, user))
    form = _form(ContactsForm, data)
    assert form.validate(), form.errors
    assert form.to_data() == data


# --- volumes --------------------------------------------------------------------------------


def test_volumes_offer_the_definition_volumes():
    form = _form(VolumesForm, {})
    assert [value for value, _ in form.volumetrie_approximative.choices] == [1000, 10000]
    assert form.volumetrie_approximative.choices[1][1] == "10\u202f000 appels / jour"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", "Choisissez une volumétrie proposée."),
        ("", "Choisissez une volumétrie."),
        ("beaucoup", "Choisissez une volumétrie."),
    ],
)
def test_volumes_must_be_one_of_the_definition(value, message):
    errors = _errors(VolumesForm, {"volumetrie_approximative": value})
    assert errors == {"volumetrie_approximative": [message]}


def test_volumes_data_is_an_integer():
    form = _form(VolumesForm, VALID["volumes"])
    assert form.validate()
    assert form.to_data() == {"volumetrie_approximative": 1000}


# --- completeness and data keys -------------------------------------------------------------


def _complete_data() -> dict:
    data = {}
    for block in BLOCK_KEYS:
        data.update(VALID[block])
    data["duree_conservation_donnees_caractere_personnel"] = 24
    data["volumetrie_approximative"] = 1000
    return data


def test_complete_request_has_no_incomplete_block():
    assert incomplete_blocks(DEFINITION, AuthorizationRequest(data=_complete_data())) == []


def test_empty_request_lists_every_block_in_order():
    # Included scopes alone make a valid scope selection, so only NO_INCLUDED lists "scopes".
    assert incomplete_blocks(NO_INCLUDED, AuthorizationRequest(data={})) == list(BLOCK_KEYS)
    assert incomplete_blocks(DEFINITION, AuthorizationRequest(data={})) == [
        k for k in BLOCK_KEYS if k != "scopes"
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"intitule": ""}, ["basic_infos"]),
        ({"cadre_juridique_url": None}, ["legal"]),
        ({"duree_conservation_donnees_caractere_personnel": 48}, ["personal_data"]),
        ({"scopes": ["ancienne"]}, ["scopes"]),
        ({"contact_technique_email": "pas-un-email"}, ["contacts"]),
        ({"volumetrie_approximative": 42}, ["volumes"]),
        ({"intitule": "", "volumetrie_approximative": 42}, ["basic_infos", "volumes"]),
    ],
)
def test_incomplete_blocks_names_the_failing_blocks(changes, expected):
    data = {**_complete_data(), **changes}
    assert incomplete_blocks(DEFINITION, AuthorizationRequest(data=data)) == expected


def test_incomplete_blocks_counts_attached_documents_for_the_legal_basis():
    data = {**_complete_data(), "cadre_juridique_url": None}
    request_obj = AuthorizationRequest(data=data)
    request_obj.documents.append(
        Document(filename="deliberation.pdf", size=10, sha256="0" * 64, uploaded_by_id=1)
    )
    assert incomplete_blocks(DEFINITION, request_obj) == []


def test_incomplete_blocks_only_checks_the_definition_blocks():
    short = DEFINITION.model_copy(update={"blocks": ["basic_infos", "volumes"]})
    request_obj = AuthorizationRequest(data={"intitule": "Cantine", "description": "Calcul."})
    assert incomplete_blocks(short, request_obj) == ["volumes"]


def test_data_keys_lists_every_field_of_the_definition_blocks():
    keys = data_keys(DEFINITION)
    expected = [key for block in BLOCK_KEYS for key in VALID[block]]
    expected.insert(expected.index(RETENTION) + 1, JUSTIFICATION)  # optional, absent from VALID
    assert keys == expected
    assert "documents" not in keys and "csrf_token" not in keys


def test_data_keys_follow_the_definition_blocks():
    short = DEFINITION.model_copy(update={"blocks": ["volumes", "basic_infos"]})
    assert data_keys(short) == ["intitule", "description", "volumetrie_approximative"]
