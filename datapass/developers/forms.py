from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from datapass.api.auth import API_SCOPES


class ApiClientForm(FlaskForm):
    class Meta:
        locales = ["fr_FR", "fr"]

    name = StringField(
        "Nom du client",
        validators=[
            DataRequired(message="Ce champ est obligatoire."),
            Length(max=100, message="100 caractères au plus."),
        ],
        description="Pour le reconnaître, par exemple « Logiciel de gestion — production ».",
    )
    scopes = SelectMultipleField(
        "Scopes",
        validators=[DataRequired(message="Choisissez au moins un scope.")],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes.choices = list(API_SCOPES.items())  # after binding, as blocks.ScopesForm
