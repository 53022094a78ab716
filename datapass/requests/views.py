"""The applicant's pages: start a request, fill it step by step, submit it, follow it."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from datapass import access
from datapass.authorizations.models import Authorization
from datapass.catalog import definition_or_404, get_definition
from datapass.errors import Conflict, DomainError
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.lifecycle.models import Event
from datapass.requests.blocks import (
    BLOCKS,
    CONTACTS,
    contact_from_user,
    incomplete_blocks,
    stored_form,
)
from datapass.requests.documents import storage_path
from datapass.requests.forms import ConfirmForm, MessageForm, StartRequestForm, SubmitForm
from datapass.requests.models import AuthorizationRequest, Document, Message

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.before_request
@login_required
def _signed_in():
    """Every page of this blueprint needs a signed-in user."""


@bp.get("")
def index():
    query = access.current_organization_requests(current_user).order_by(
        AuthorizationRequest.updated_at.desc()
    )
    requests_ = db.session.scalars(query.where(AuthorizationRequest.state != "archived")).all()
    archived = db.session.scalars(query.where(AuthorizationRequest.state == "archived")).all()
    return render_template("requests/index.html", requests_=requests_, archived=archived)


@bp.route("/new/<definition_id>", methods=["GET", "POST"])
def new(definition_id: str):
    definition = definition_or_404(definition_id)
    if not definition.public:
        abort(404)
    form = StartRequestForm()
    # A closed establishment cannot start a request (organisation details: accounts.directory).
    form.organization_id.choices = [
        (o.id, f"{o.name} — SIRET {o.siret}") for o in current_user.organizations if o.is_active
    ]
    if not form.organization_id.choices:
        flash("Votre compte n'est rattaché à aucune organisation active.", "error")
        return redirect(url_for("catalog.show", definition_id=definition.id))
    if request.method == "GET" and current_user.current_organization:
        form.organization_id.data = current_user.current_organization.id
    if form.validate_on_submit():
        organization = next(
            o for o in current_user.organizations if o.id == form.organization_id.data
        )
        request_obj = services.start_request(current_user, definition, organization)
        current_user.current_organization_id = organization.id  # so the list shows it
        db.session.commit()
        return redirect(
            url_for(".step", request_id=request_obj.id, block_key=definition.ordered_blocks[0])
        )
    return render_template("requests/new.html", definition=definition, form=form)


def _editable_request_or_404(request_id: int) -> AuthorizationRequest:
    request_obj = access.applicant_request_or_404(current_user, request_id)
    if not services.can_edit(request_obj, current_user):
        flash("Cette demande ne peut plus être modifiée.", "warning")
        abort(redirect(url_for(".show", request_id=request_obj.id)))
    return request_obj


def _fill_contact(prefix: str) -> MultiDict:
    """The posted form with one contact replaced by the applicant's profile ("c'est moi")."""
    formdata = MultiDict(request.form)
    for key, value in contact_from_user(prefix, current_user).items():
        formdata[key] = value
    return formdata


@bp.route("/<int:request_id>/steps/<block_key>", methods=["GET", "POST"])
def step(request_id: int, block_key: str):
    request_obj = _editable_request_or_404(request_id)
    definition = get_definition(request_obj.definition_id)
    if block_key not in definition.blocks:
        abort(404)
    block = BLOCKS[block_key]
    fill_me = request.form.get("fill_me") if request.method == "POST" else None
    if fill_me in CONTACTS:
        form = block.form_class(
            formdata=_fill_contact(fill_me), definition=definition, request_obj=request_obj
        )
        return _render_step(request_obj, definition, block, form)
    if request.method == "GET":
        form = stored_form(block, definition, request_obj)
    else:
        form = block.form_class(definition=definition, request_obj=request_obj)
        if form.validate_on_submit():
            try:
                # The PDFs first: reading and scanning them takes time, and no write may be
                # pending meanwhile (on SQLite it would lock every other writer out).
                if block_key == "legal":
                    services.add_documents(
                        request_obj, current_user, request.files.getlist("documents")
                    )
                services.save_step(request_obj, current_user, form.to_data())
            except DomainError as exc:
                db.session.rollback()
                form.documents.errors = [exc.message]
            else:
                db.session.commit()
                flash(f"Étape « {block.title} » enregistrée.", "success")
                return redirect(_after_step(request_obj, definition, block_key))
    return _render_step(request_obj, definition, block, form)


def _after_step(request_obj: AuthorizationRequest, definition, block_key: str) -> str:
    if request.form.get("then") == "stay":
        return url_for(".step", request_id=request_obj.id, block_key=block_key)
    keys = definition.ordered_blocks
    index = keys.index(block_key)
    if index + 1 < len(keys):
        return url_for(".step", request_id=request_obj.id, block_key=keys[index + 1])
    return url_for(".summary", request_id=request_obj.id)


def _render_step(request_obj, definition, block, form):
    return render_template(
        "requests/step.html",
        request_obj=request_obj,
        definition=definition,
        block=block,
        form=form,
        delete_form=ConfirmForm(),
        blocks=[BLOCKS[k] for k in definition.ordered_blocks],
    )


@bp.post("/<int:request_id>/documents/<int:document_id>/delete")
def delete_document(request_id: int, document_id: int):
    request_obj = _editable_request_or_404(request_id)
    document = next((d for d in request_obj.documents if d.id == document_id), None) or abort(404)
    if ConfirmForm().validate_on_submit():
        services.remove_document(request_obj, current_user, document)
        db.session.commit()
        flash(f"Document « {document.filename} » retiré.", "success")
    return redirect(url_for(".step", request_id=request_obj.id, block_key="legal"))


@bp.get("/<int:request_id>/documents/<int:document_id>")
def document(request_id: int, document_id: int):
    """A document of a request, for whoever may see the request, as a download."""
    request_obj = access.any_request_or_404(current_user, request_id)
    document = db.session.get(Document, document_id)
    if document is None or document.request_id != request_obj.id:
        # Documents dropped from a request stay reachable through its authorizations' snapshots.
        snapshot = _authorization_document(request_obj, document_id) or abort(404)
        filename, sha256 = snapshot["filename"], snapshot["sha256"]
    else:
        filename, sha256 = document.filename, document.sha256
    response = send_file(
        storage_path(sha256),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _authorization_document(request_obj, document_id: int) -> dict | None:
    authorizations = db.session.scalars(
        select(Authorization).where(Authorization.request_id == request_obj.id)
    )
    for authorization in authorizations:
        for snapshot in authorization.documents:
            if snapshot["id"] == document_id:
                return snapshot
    return None


@bp.route("/<int:request_id>/summary", methods=["GET", "POST"])
def summary(request_id: int):
    request_obj = access.applicant_request_or_404(current_user, request_id)
    definition = get_definition(request_obj.definition_id)
    missing = incomplete_blocks(definition, request_obj) if request_obj.is_editable else []
    form = SubmitForm()
    if request.method == "POST":
        if not services.can_edit(request_obj, current_user):
            raise Conflict("Cette demande ne peut plus être modifiée ni soumise dans son état.")
        if missing:
            flash("La demande est incomplète : complétez les étapes signalées.", "error")
        elif form.validate_on_submit():
            services.submit_request(
                request_obj,
                current_user,
                terms_accepted=form.terms_accepted.data,
                dpo_informed=form.dpo_informed.data,
            )
            db.session.commit()
            flash("Votre demande a été soumise. Vous serez prévenu de la décision.", "success")
            return redirect(url_for(".show", request_id=request_obj.id))
    return render_template(
        "requests/summary.html",
        request_obj=request_obj,
        definition=definition,
        missing=missing,
        form=form,
        blocks=[BLOCKS[k] for k in definition.ordered_blocks],
    )


def timeline(request_obj: AuthorizationRequest) -> list[Event]:
    return db.session.scalars(
        select(Event)
        .where(Event.request_id == request_obj.id)
        .order_by(Event.created_at.desc(), Event.id.desc())
    ).all()


def messages(request_obj: AuthorizationRequest) -> list[Message]:
    return db.session.scalars(
        select(Message).where(Message.request_id == request_obj.id).order_by(Message.id)
    ).all()


def authorizations(request_obj: AuthorizationRequest) -> list[Authorization]:
    return db.session.scalars(
        select(Authorization)
        .where(Authorization.request_id == request_obj.id)
        .order_by(Authorization.id.desc())
    ).all()


@bp.get("/<int:request_id>")
def show(request_id: int):
    request_obj = access.applicant_request_or_404(current_user, request_id)
    definition = get_definition(request_obj.definition_id)
    return render_template(
        "requests/show.html",
        request_obj=request_obj,
        definition=definition,
        events=timeline(request_obj),
        messages=messages(request_obj),
        authorizations=authorizations(request_obj),
        message_form=MessageForm(),
        archive_form=ConfirmForm(),
        can_archive=request_obj.applicant_id == current_user.id
        and request_obj.state in ("draft", "changes_requested", "refused", "revoked"),
        blocks=[BLOCKS[k] for k in definition.ordered_blocks],
    )


@bp.post("/<int:request_id>/archive")
def archive(request_id: int):
    request_obj = access.applicant_request_or_404(current_user, request_id)
    if ConfirmForm().validate_on_submit():
        services.archive_request(request_obj, current_user)
        db.session.commit()
        flash("La demande a été archivée.", "success")
    return redirect(url_for(".show", request_id=request_obj.id))


@bp.post("/<int:request_id>/messages")
def post_message(request_id: int):
    """A message from either side; each side goes back to its own page of the request."""
    request_obj = access.any_request_or_404(current_user, request_id)
    form = MessageForm()
    if form.validate_on_submit():
        services.post_message(request_obj, current_user, form.body.data)
        db.session.commit()
        flash("Message envoyé.", "success")
    else:
        for error in form.body.errors:
            flash(error, "error")
    if current_user.is_member_of(request_obj.organization_id):
        return redirect(url_for(".show", request_id=request_obj.id) + "#messages")
    return redirect(url_for("instruction.show", request_id=request_obj.id) + "#messages")
