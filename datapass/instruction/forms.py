from __future__ import annotations

from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
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
        choices=[
            ("updated_desc", "Dernière mise à jour"),
            ("submitted_asc", "Soumission la plus ancienne"),
            ("created_desc", "Création la plus récente"),
        ],
        validators=[Optional()],
    )
