from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from datapass.requests.forms import FrenchForm

DECISIONS = {
    "approve": "Valider la demande",
    "request_changes": "Demander des modifications",
    "refuse": "Refuser la demande",
}


class DecisionForm(FrenchForm):
    decision = HiddenField(validators=[DataRequired()])
    lock_version = IntegerField(validators=[DataRequired()])
    reason = TextAreaField(
        "Motif",
        validators=[Optional(), Length(max=5000, message="5 000 caractères au plus.")],
    )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.decision.data not in DECISIONS:
            self.decision.errors.append("Décision inconnue.")
            return False
        if self.decision.data != "approve" and not (self.reason.data or "").strip():
            self.reason.errors.append("Le motif est obligatoire.")
            return False
        return True


class QueueFilterForm(FrenchForm):
    class Meta:
        csrf = False

    q = StringField("Rechercher", validators=[Optional(), Length(max=200)])
    state = SelectField("État", validators=[Optional()])
    definition = SelectField("API", validators=[Optional()])
    sort = SelectField(
        "Trier par",
        # A {value: label} mapping: WTForms 3.3 deprecates (value, label) tuples here.
        choices={
            "updated_desc": "Dernière mise à jour",
            "submitted_asc": "Soumission la plus ancienne",
            "created_desc": "Création la plus récente",
        },
        validators=[Optional()],
    )
    submitted_from = DateField("Déposée à partir du", validators=[Optional()])
    submitted_to = DateField("Déposée jusqu'au", validators=[Optional()])
    unread = BooleanField("Avec des messages non lus")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.submitted_from.data, self.submitted_to.data
        if start and end and start > end:
            self.submitted_to.errors = [
                *self.submitted_to.errors,
                "La date de fin doit suivre la date de début.",
            ]
            return False
        return valid
