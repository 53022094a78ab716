"""The form blocks a definition may use: one WTForms form per step of a request.

Each block owns its data keys (DataPass's names, so exports and API payloads stay compatible
with DataPass) and validates on its own: a step is saved only when its form is valid, and a
request is complete when every block of its definition validates against the stored data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    EmailField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.requests.documents import size_label
from workflows.loader import Definition

REQUIRED = "Ce champ est obligatoire."
RETENTION_LIMIT_MONTHS = 36  # beyond this, the retention period must be justified (RGPD art. 5)


class BlockForm(FlaskForm):
    class Meta:
        locales = ["fr_FR", "fr"]

    def __init__(self, *args, definition: Definition, request_obj=None, **kwargs):
        self.definition = definition
        self.request_obj = request_obj
        super().__init__(*args, **kwargs)

    def to_data(self) -> dict[str, Any]:
        """The data keys this block writes, from the validated form."""
        return {
            name: (field.data.strip() if isinstance(field.data, str) else field.data)
            for name, field in self._fields.items()
            if name != "csrf_token" and not isinstance(field, MultipleFileField)
        }


def _required():
    return DataRequired(message=REQUIRED)


class BasicInfosForm(BlockForm):
    intitule = StringField(
        "Intitulé de la demande",
        validators=[_required(), Length(max=200, message="200 caractères au plus.")],
        description="Le nom du projet ou de la démarche, par exemple « Tarification sociale de la "
        "cantine ».",
    )
    description = TextAreaField(
        "Description du cas d'usage",
        validators=[_required(), Length(max=5000, message="5 000 caractères au plus.")],
        description="À quoi serviront les données, pour quels usagers et dans quelle démarche.",
    )


class LegalForm(BlockForm):
    cadre_juridique_nature = StringField(
        "Nature et référence du cadre juridique",
        validators=[_required(), Length(max=500, message="500 caractères au plus.")],
        description="Par exemple « Délibération du conseil municipal n° 2024-12 » ou "
        "« Article L. 312-1 du code de l'action sociale et des familles ».",
    )
    cadre_juridique_url = URLField(
        "Lien vers le texte",
        validators=[
            Optional(),
            URL(require_tld=True, message="Indiquez une adresse web valide (https://…)."),
            Length(max=1000, message="1 000 caractères au plus."),
        ],
        description="Sur Légifrance ou le site de votre organisation.",
    )
    documents = MultipleFileField("Documents (PDF)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The limits are settings (DATAPASS_MAX_DOCUMENT_SIZE, DATAPASS_MAX_DOCUMENTS).
        size = size_label(current_app.config["MAX_DOCUMENT_SIZE"])
        count = current_app.config["MAX_DOCUMENTS"]
        self.documents.description = (
            f"Si le texte n'est pas en ligne : jusqu'à {count} documents PDF, "
            f"{size} au plus chacun."
        )

    def validate_cadre_juridique_url(self, field):
        if field.errors:  # the URL validator already said so; one message is enough
            return
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError("Indiquez une adresse web valide (https://…).")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        has_documents = bool(self.request_obj and self.request_obj.documents) or any(
            getattr(f, "filename", None) for f in (self.documents.data or [])
        )
        if valid and not self.cadre_juridique_url.data and not has_documents:
            self.cadre_juridique_url.errors.append(
                "Indiquez un lien vers le texte ou joignez au moins un document PDF."
            )
            return False
        return valid


class PersonalDataForm(BlockForm):
    destinataire_donnees_caractere_personnel = TextAreaField(
        "Destinataires des données",
        validators=[_required(), Length(max=2000, message="2 000 caractères au plus.")],
        description="Les services ou agents qui auront accès aux données, par exemple « agents du "
        "service enfance instruisant les dossiers ».",
    )
    duree_conservation_donnees_caractere_personnel = IntegerField(
        "Durée de conservation des données (en mois)",
        validators=[
            DataRequired(message="Indiquez une durée en mois (nombre entier)."),
            NumberRange(min=1, max=1200, message="Entre 1 et 1 200 mois."),
        ],
    )
    duree_conservation_donnees_caractere_personnel_justification = TextAreaField(
        "Justification de la durée de conservation",
        validators=[Length(max=2000, message="2 000 caractères au plus.")],
        description=f"Obligatoire au-delà de {RETENTION_LIMIT_MONTHS} mois.",
    )

    def validate_duree_conservation_donnees_caractere_personnel_justification(self, field):
        months = self.duree_conservation_donnees_caractere_personnel.data
        if months and months > RETENTION_LIMIT_MONTHS and not (field.data or "").strip():
            raise ValidationError(
                f"Justifiez une durée de conservation supérieure à {RETENTION_LIMIT_MONTHS} mois."
            )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ScopesForm(BlockForm):
    # Choices are checked by validate_scopes, with a French message naming no value.
    scopes = MultiCheckboxField("Données demandées", validate_choice=False)

    def __init__(self, *args, definition: Definition, **kwargs):
        super().__init__(*args, definition=definition, **kwargs)
        self.scopes.choices = [(s.value, s.label) for s in definition.grantable_scopes]

    def validate_scopes(self, field):
        allowed = {s.value for s in self.definition.grantable_scopes}
        chosen = set(field.data or [])
        if chosen - allowed:
            raise ValidationError("Une donnée demandée n'est pas proposée par cette API.")
        if not chosen:
            raise ValidationError("Sélectionnez au moins une donnée.")

    def to_data(self) -> dict[str, Any]:
        included = [s.value for s in self.definition.scopes if s.included]
        chosen = set(self.scopes.data or []) | set(included)
        # Keep the definition's order, so that snapshots compare equal whatever the click order.
        return {"scopes": [s.value for s in self.definition.scopes if s.value in chosen]}

    def process(self, formdata=None, obj=None, data=None, **kwargs):
        super().process(formdata, obj, data, **kwargs)
        included = [s.value for s in self.definition.scopes if s.included]
        self.scopes.data = list(dict.fromkeys([*(self.scopes.data or []), *included]))


CONTACTS = {
    "responsable_traitement": "Responsable de traitement",
    "delegue_protection_donnees": "Délégué à la protection des données",
    "contact_technique": "Contact technique",
}
CONTACT_FIELDS = ("given_name", "family_name", "email", "phone_number", "job_title")
PHONE_PATTERN = r"^\+?[0-9 .()-]{10,20}$"


class ContactsForm(BlockForm):
    """Three contacts; each may be filled from the applicant's profile ("c'est moi")."""


for _prefix, _label in CONTACTS.items():
    setattr(
        ContactsForm,
        f"{_prefix}_given_name",
        StringField(
            "Prénom", validators=[_required(), Length(max=100, message="100 caractères au plus.")]
        ),
    )
    setattr(
        ContactsForm,
        f"{_prefix}_family_name",
        StringField(
            "Nom", validators=[_required(), Length(max=100, message="100 caractères au plus.")]
        ),
    )
    setattr(
        ContactsForm,
        f"{_prefix}_email",
        EmailField(
            "Adresse électronique",
            validators=[
                _required(),
                Email(message="Adresse électronique invalide.", check_deliverability=False),
                Length(max=255, message="255 caractères au plus."),
            ],
        ),
    )
    setattr(
        ContactsForm,
        f"{_prefix}_phone_number",
        TelField(
            "Téléphone",
            validators=[
                _required(),
                Regexp(
                    PHONE_PATTERN, message="Numéro de téléphone invalide (10 chiffres au moins)."
                ),
            ],
        ),
    )
    setattr(
        ContactsForm,
        f"{_prefix}_job_title",
        StringField(
            "Fonction", validators=[_required(), Length(max=150, message="150 caractères au plus.")]
        ),
    )


def contact_from_user(prefix: str, user) -> dict[str, str]:
    """The data keys of one contact, copied from the user's profile ("c'est moi")."""
    return {f"{prefix}_{name}": getattr(user, name) or "" for name in CONTACT_FIELDS}


class VolumesForm(BlockForm):
    volumetrie_approximative = SelectField(
        "Nombre d'appels prévus par jour",
        coerce=int,
        validate_choice=False,  # validate_volumetrie_approximative says it in French
        validators=[DataRequired(message="Choisissez une volumétrie.")],
    )

    def __init__(self, *args, definition: Definition, **kwargs):
        super().__init__(*args, definition=definition, **kwargs)
        self.volumetrie_approximative.choices = [
            (v, f"{v:,} appels / jour".replace(",", "\u202f")) for v in definition.volumes
        ]

    def validate_volumetrie_approximative(self, field):
        if field.data not in self.definition.volumes:
            raise ValidationError("Choisissez une volumétrie proposée.")


@dataclass(frozen=True)
class Block:
    key: str
    title: str
    form_class: type[BlockForm]


BLOCKS: dict[str, Block] = {
    block.key: block
    for block in (
        Block("basic_infos", "Informations générales", BasicInfosForm),
        Block("legal", "Cadre juridique", LegalForm),
        Block("personal_data", "Données personnelles", PersonalDataForm),
        Block("scopes", "Données demandées", ScopesForm),
        Block("contacts", "Contacts", ContactsForm),
        Block("volumes", "Volumétrie", VolumesForm),
    )
}


def stored_form(block: Block, definition: Definition, request_obj) -> BlockForm:
    """The block's form loaded from what the request stores, to check or show it."""
    data = request_obj.data
    formdata = MultiDict()
    for name in block.form_class(
        definition=definition, formdata=None, meta={"csrf": False}
    )._fields:
        value = data.get(name)
        if isinstance(value, list):
            for item in value:
                formdata.add(name, str(item))
        elif value is not None:
            formdata.add(name, str(value))
    return block.form_class(
        formdata=formdata, definition=definition, request_obj=request_obj, meta={"csrf": False}
    )


def incomplete_blocks(definition: Definition, request_obj) -> list[str]:
    """Keys of the definition's blocks that do not validate against the stored data."""
    return [
        key
        for key in definition.ordered_blocks
        if not stored_form(BLOCKS[key], definition, request_obj).validate()
    ]


def data_keys(definition: Definition) -> list[str]:
    """Every data key a request for this definition may carry."""
    keys: list[str] = []
    for key in definition.ordered_blocks:
        form = BLOCKS[key].form_class(definition=definition, formdata=None, meta={"csrf": False})
        keys += [n for n, f in form._fields.items() if not isinstance(f, MultipleFileField)]
    return keys


_LABELS: dict[str, dict[str, str]] = {}


def field_labels(definition: Definition) -> dict[str, str]:
    """Each data key's label as the applicant saw it: "Step › Field" (contacts: "Step ›
    Contact : Field"). Computed once per definition."""
    if definition.id not in _LABELS:
        labels = {}
        for key in definition.ordered_blocks:
            block = BLOCKS[key]
            form = block.form_class(definition=definition, formdata=None, meta={"csrf": False})
            for name, field in form._fields.items():
                label = field.label.text
                prefix = next((p for p in CONTACTS if name.startswith(p + "_")), None)
                if prefix:
                    label = f"{CONTACTS[prefix]} : {label}"
                labels[name] = f"{block.title} › {label}"
        _LABELS[definition.id] = labels
    return _LABELS[definition.id]


def change_rows(changes: dict[str, Any] | None, definition: Definition) -> list[tuple]:
    """(label, before, after) of a submission's changes ({key: [before, after]}), for people:
    labels instead of keys, scope labels, "—" for nothing."""
    labels = field_labels(definition)
    scopes = {scope.value: scope.label for scope in definition.scopes}

    def shown(value) -> str:
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, list):
            return ", ".join(shown(item) for item in value)
        if isinstance(value, dict):  # a document: its file name
            return str(value.get("filename") or value)
        return scopes.get(value, str(value)) if isinstance(value, str) else str(value)

    return [
        (labels.get(key, key), shown(before), shown(after))
        for key, (before, after) in (changes or {}).items()
    ]
