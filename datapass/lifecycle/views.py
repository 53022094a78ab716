"""Pages of an authorization's life after validation: reopen, cancel a reopening, copy, start
the production stage, transfer (applicant side); revoke a request or an authorization
(instructors). Each view parses, checks access, calls one service and commits once.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from datapass import access
from datapass.accounts.models import Organization, User
from datapass.accounts.siret import SiretValidator
from datapass.extensions import db
from datapass.lifecycle import copies, reopening, revocation, services, transfer
from datapass.requests.forms import ConfirmForm, FrenchForm

bp = Blueprint("lifecycle", __name__)


class ReasonForm(FrenchForm):
    reason = TextAreaField(
        "Motif",
        validators=[
            DataRequired(message="Le motif est obligatoire."),
            Length(max=5000, message="5 000 caractères au plus."),
        ],
    )


class TransferForm(FrenchForm):
    email = StringField(
        "Adresse électronique de la personne à qui confier la demande",
        validators=[
            DataRequired(message="Indiquez l'adresse électronique."),
            Email(message="Adresse électronique invalide."),
        ],
    )
    siret = StringField(
        "SIRET de l'organisation (administrateurs : pour la confier à une autre organisation)",
        validators=[Optional(), SiretValidator()],
    )
    reason = TextAreaField(
        "Message (facultatif)",
        validators=[Optional(), Length(max=2000, message="2 000 caractères au plus.")],
    )


@bp.before_request
@login_required
def _signed_in():
    """Every page of this blueprint needs a signed-in user."""


def _back(request_obj) -> str:
    """Each side goes back to its own page of the request."""
    if current_user.is_member_of(request_obj.organization_id):
        return url_for("requests.show", request_id=request_obj.id)
    return url_for("instruction.show", request_id=request_obj.id)


def _confirmed() -> None:
    """A button-only POST: its CSRF token must check out."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _flash_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")


@bp.post("/requests/<int:request_id>/reopen")
def reopen(request_id: int):
    request_obj = access.applicant_request_or_404(current_user, request_id)
    _confirmed()
    reopening.reopen_request(request_obj, current_user)
    db.session.commit()
    flash(
        "Demande rouverte : modifiez-la puis soumettez-la. L'habilitation en cours reste active "
        "jusqu'à la nouvelle décision.",
        "success",
    )
    return redirect(url_for("requests.summary", request_id=request_obj.id))


@bp.post("/requests/<int:request_id>/reopening/cancel")
def cancel_reopening(request_id: int):
    request_obj = access.any_request_or_404(current_user, request_id)
    form = ReasonForm()
    if form.validate_on_submit():
        reopening.cancel_reopening(request_obj, current_user, form.reason.data)
        db.session.commit()
        flash("Réouverture annulée : la demande a retrouvé son contenu validé.", "success")
    else:
        _flash_errors(form)
    return redirect(_back(request_obj))


@bp.post("/requests/<int:request_id>/copy")
def copy(request_id: int):
    source = access.applicant_request_or_404(current_user, request_id)
    _confirmed()
    request_obj = copies.copy_request(source, current_user)
    db.session.commit()
    flash(f"Copie créée : brouillon n°{request_obj.id}.", "success")
    return redirect(url_for("requests.summary", request_id=request_obj.id))


@bp.post("/requests/<int:request_id>/production")
def start_production(request_id: int):
    source = access.applicant_request_or_404(current_user, request_id)
    _confirmed()
    request_obj = copies.start_production(source, current_user)
    db.session.commit()
    flash(
        f"Demande de production n°{request_obj.id} commencée, pré-remplie à partir du bac à "
        "sable : vérifiez chaque étape puis soumettez-la.",
        "success",
    )
    return redirect(url_for("requests.summary", request_id=request_obj.id))


@bp.route("/requests/<int:request_id>/transfer", methods=["GET", "POST"])
def transfer_request(request_id: int):
    request_obj = access.any_request_or_404(current_user, request_id)
    if not transfer.can_transfer(request_obj, current_user):
        abort(403)
    form = TransferForm()
    if form.validate_on_submit():
        new_applicant = db.session.scalar(
            select(User).where(User.email == form.email.data.strip().lower())
        )
        organization = None
        if form.siret.data:
            organization = db.session.scalar(
                select(Organization).where(Organization.siret == form.siret.data)
            )
            if organization is None:
                form.siret.errors.append("Aucune organisation n'a ce SIRET.")
        if new_applicant is None:
            form.email.errors.append("Aucun compte n'a cette adresse électronique.")
        if new_applicant is not None and not form.siret.errors:
            transfer.transfer_request(
                request_obj, current_user, new_applicant, organization, form.reason.data
            )
            db.session.commit()
            flash(f"Demande confiée à {new_applicant.full_name}.", "success")
            if current_user.is_member_of(request_obj.organization_id):
                return redirect(url_for("requests.show", request_id=request_obj.id))
            return redirect(url_for("requests.index"))
    return render_template(
        "lifecycle/transfer.html",
        request_obj=request_obj,
        form=form,
        candidates=transfer.transfer_candidates(request_obj),
    ), (400 if form.errors else 200)


@bp.post("/instruction/requests/<int:request_id>/revoke")
def revoke_request(request_id: int):
    request_obj = access.staff_request_or_404(current_user, request_id)
    if not services.can_instruct(request_obj, current_user):
        abort(403)
    form = ReasonForm()
    if form.validate_on_submit():
        revocation.revoke_request(request_obj, current_user, form.reason.data)
        db.session.commit()
        flash("Demande révoquée : son habilitation et ses accès sont coupés.", "success")
    else:
        _flash_errors(form)
    return redirect(url_for("instruction.show", request_id=request_obj.id))


@bp.post("/authorizations/<int:authorization_id>/revoke")
def revoke_authorization(authorization_id: int):
    authorization = access.authorization_or_404(current_user, authorization_id)
    if not revocation.can_revoke(authorization, current_user):
        abort(403)
    form = ReasonForm()
    if form.validate_on_submit():
        revocation.revoke_authorization(authorization, current_user, form.reason.data)
        db.session.commit()
        flash(f"Habilitation n°{authorization.id} révoquée.", "success")
    else:
        _flash_errors(form)
    return redirect(url_for("authorizations.show", authorization_id=authorization.id))


@bp.app_context_processor
def _lifecycle_helpers() -> dict:
    """What the request, instruction and authorization pages ask of the lifecycle."""
    return {
        "lifecycle": {
            "can_reopen": reopening.can_reopen,
            "can_cancel_reopening": reopening.can_cancel_reopening,
            "is_reopening": reopening.is_reopening,
            "reopening_changes": reopening.reopening_changes,
            "can_copy": copies.can_copy,
            "can_start_production": copies.can_start_production,
            "production_definition": copies.production_definition,
            "production_request": copies.production_request,
            "can_transfer": transfer.can_transfer,
            "can_revoke": revocation.can_revoke,
            "active_authorization": reopening.active_authorization,
        }
    }
