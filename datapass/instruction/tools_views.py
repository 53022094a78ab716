"""Pages of the instruction tools: a definition's message templates (managers), instructors'
private notes on a request, and the template an instructor picks on the review page.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from datapass import access
from datapass.catalog import all_definitions, definition_or_404
from datapass.errors import DomainError
from datapass.extensions import db
from datapass.instruction import tools
from datapass.requests.forms import ConfirmForm, FrenchForm

bp = Blueprint("instruction_tools", __name__, url_prefix="/instruction")


class TemplateForm(FrenchForm):
    title = StringField(
        "Titre du modèle",
        validators=[
            DataRequired(message="Le titre est obligatoire."),
            Length(max=200, message="200 caractères au plus."),
        ],
    )
    body = TextAreaField(
        "Texte",
        validators=[
            DataRequired(message="Le texte est obligatoire."),
            Length(max=5000, message="5 000 caractères au plus."),
        ],
    )


class NoteForm(FrenchForm):
    body = TextAreaField(
        "Note privée (lue par les seuls instructeurs)",
        validators=[
            DataRequired(message="La note est vide."),
            Length(max=5000, message="5 000 caractères au plus."),
        ],
    )
    # Radio buttons in the template; the service refuses a value outside tools.OPINIONS.
    opinion = StringField("Avis", validators=[Optional()])


@bp.before_request
@login_required
def _staff_only():
    if not current_user.is_staff:
        abort(404)


def _managed_definition_or_404(definition_id: str):
    definition = definition_or_404(definition_id)
    if not tools.can_manage_templates(current_user, definition.id):
        abort(404)
    return definition


@bp.get("/templates")
def templates_index():
    definitions = [
        d for d in all_definitions().values() if tools.can_manage_templates(current_user, d.id)
    ]
    if not definitions:
        abort(404)
    return redirect(url_for(".templates", definition_id=definitions[0].id))


@bp.route("/templates/<definition_id>", methods=["GET", "POST"])
def templates(definition_id: str):
    definition = _managed_definition_or_404(definition_id)
    form = TemplateForm()
    status = 200
    if form.validate_on_submit():
        try:
            tools.save_template(current_user, definition.id, form.title.data, form.body.data)
        except DomainError as exc:
            db.session.rollback()
            form.body.errors.append(exc.message)
        else:
            db.session.commit()
            flash("Modèle enregistré.", "success")
            return redirect(url_for(".templates", definition_id=definition.id))
    if form.errors:
        status = 400
    managed = [
        d for d in all_definitions().values() if tools.can_manage_templates(current_user, d.id)
    ]
    return render_template(
        "lifecycle/templates.html",
        definition=definition,
        definitions=managed,
        templates=tools.templates_for(definition.id),
        form=form,
        variables=tools.VARIABLES,
        delete_form=ConfirmForm(),
    ), status


def _template_or_404(template_id: int) -> tools.MessageTemplate:
    template = db.session.get(tools.MessageTemplate, template_id)
    if template is None or not tools.can_manage_templates(current_user, template.definition_id):
        abort(404)
    return template


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
def edit_template(template_id: int):
    template = _template_or_404(template_id)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        try:
            tools.save_template(
                current_user, template.definition_id, form.title.data, form.body.data, template
            )
        except DomainError as exc:
            db.session.rollback()
            form.body.errors.append(exc.message)
        else:
            db.session.commit()
            flash("Modèle modifié.", "success")
            return redirect(url_for(".templates", definition_id=template.definition_id))
    return render_template(
        "lifecycle/template_edit.html",
        template=template,
        form=form,
        variables=tools.VARIABLES,
    ), (400 if form.errors else 200)


@bp.post("/templates/<int:template_id>/delete")
def delete_template(template_id: int):
    template = _template_or_404(template_id)
    definition_id = template.definition_id
    if ConfirmForm().validate_on_submit():
        tools.delete_template(current_user, template)
        db.session.commit()
        flash("Modèle supprimé.", "success")
    return redirect(url_for(".templates", definition_id=definition_id))


@bp.post("/requests/<int:request_id>/notes")
def add_note(request_id: int):
    request_obj = access.staff_request_or_404(current_user, request_id)
    if not tools.can_read_notes(current_user, request_obj):
        abort(403)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            tools.add_note(request_obj, current_user, form.body.data, form.opinion.data or "")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash("Note enregistrée (visible des seuls instructeurs).", "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("instruction.show", request_id=request_obj.id) + "#notes")


def picked_message(request_obj) -> str:
    """The text of the template picked on the review page (?template=<id>), filled in."""
    template_id = request.args.get("template", type=int)
    if not template_id:
        return ""
    template = db.session.get(tools.MessageTemplate, template_id)
    if template is None or template.definition_id != request_obj.definition_id:
        return ""
    return tools.render_template_body(template, request_obj)


@bp.app_context_processor
def _instruction_tools_helpers() -> dict:
    return {
        "instruction_tools": {
            "notes_for": tools.notes_for,
            "can_read_notes": tools.can_read_notes,
            "templates_for": tools.templates_for,
            "can_manage_templates": tools.can_manage_templates,
            "picked_message": picked_message,
            "opinions": tools.OPINIONS,
        }
    }
