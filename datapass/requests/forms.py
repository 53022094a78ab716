"""Forms of the applicant's pages, besides the block steps (see blocks.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length


class FrenchForm(FlaskForm):
    class Meta:
        locales = ["fr_FR", "fr"]


class StartRequestForm(FrenchForm):
    organization_id = SelectField(
        "Organisation pour laquelle vous faites la demande",
        coerce=int,
        validators=[DataRequired(message="Choisissez une organisation.")],
    )


class SubmitForm(FrenchForm):
    terms_accepted = BooleanField(
        "J'accepte les conditions générales d'utilisation de l'API",
        validators=[DataRequired(message="Vous devez accepter les conditions générales.")],
    )
    dpo_informed = BooleanField(
        "Je confirme que le délégué à la protection des données de mon organisation est informé "
        "de cette demande",
        validators=[
            DataRequired(message="Le délégué à la protection des données doit être informé.")
        ],
    )


class MessageForm(FrenchForm):
    body = TextAreaField(
        "Votre message",
        validators=[
            DataRequired(message="Le message est vide."),
            Length(max=5000, message="5 000 caractères au plus."),
        ],
    )


class ConfirmForm(FrenchForm):
    """A button-only form (archive, delete a document): CSRF and nothing else."""
