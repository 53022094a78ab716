"""The instructors' pages: the queue, a request's review page, decisions and messages.

Reporters see the same pages read-only; deciding needs the instructor role on the definition.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from datapass import access
from datapass.catalog import all_definitions, get_definition
from datapass.extensions import db
from datapass.instruction import queue as queue_pages
from datapass.instruction.forms import DECISIONS, DecisionForm, QueueFilterForm
from datapass.instruction.reads import mark_read, unread_counts
from datapass.lifecycle import services
from datapass.requests.blocks import BLOCKS
from datapass.requests.forms import MessageForm
from datapass.requests.models import STATE_LABELS
from datapass.requests.views import authorizations, messages, timeline

bp = Blueprint("instruction", __name__, url_prefix="/instruction")

SAVED_FILTERS = "instruction_queue_filters"
FILTER_ARGS = ("q", "state", "definition", "submitted_from", "submitted_to", "unread", "sort")


@bp.before_request
@login_required
def _staff_only():
    if not current_user.is_staff:
        abort(404)


def _queue_form() -> tuple[QueueFilterForm, bool]:
    """The filter form from the URL, or the user's remembered filters (reset=1 forgets them)."""
    args = request.args
    restored = False
    saved = session.get(SAVED_FILTERS)
    if args.get("reset"):
        session.pop(SAVED_FILTERS, None)
        args = MultiDict()
    elif (
        saved
        and saved.get("user") == current_user.id
        and saved["args"]
        and not any(k in args for k in FILTER_ARGS if k != "sort")
    ):
        args = MultiDict({**saved["args"], **args})
        restored = True
    visible = current_user.definitions_with("reporter")
    definitions = [d for d in all_definitions().values() if visible is None or d.id in visible]
    form = QueueFilterForm(args)
    form.state.choices = [("", "Tous les états actifs")] + list(STATE_LABELS.items())
    form.definition.choices = [("", "Toutes les API")] + [(d.id, d.name) for d in definitions]
    return form, restored


def _valid(field) -> bool:
    return field.data not in (None, "", False) and not field.errors


def _filters(form: QueueFilterForm) -> queue_pages.Filters:
    """The filters of the fields without error (a field in error is shown, and ignored)."""
    form.validate()
    value = {name: form[name].data if _valid(form[name]) else None for name in FILTER_ARGS}
    return queue_pages.Filters(
        q=(value["q"] or "").strip(),
        state=value["state"] or "",
        definition=value["definition"] or "",
        submitted_from=value["submitted_from"],
        submitted_to=value["submitted_to"],
        unread=bool(value["unread"]),
        sort=value["sort"] or "updated_desc",
    )


def _filter_args(form: QueueFilterForm) -> dict[str, str]:
    """The valid filters as URL arguments, for links (pages, export) and to remember them."""
    return {
        name: "y" if form[name].data is True else str(form[name].data)
        for name in FILTER_ARGS
        if _valid(form[name])
    }


@bp.get("")
def queue():
    form, restored = _queue_form()
    filters = _filters(form)
    args = _filter_args(form)
    # The filters are remembered (not the sort, nor the page) until changed or reset.
    remembered = {k: v for k, v in args.items() if k != "sort"}
    session[SAVED_FILTERS] = {"user": current_user.id, "args": remembered}
    query = queue_pages.filtered(access.staff_requests(current_user), filters, current_user.id)
    status = 200
    try:
        page = queue_pages.page(
            query,
            filters.sort,
            after=request.args.get("after"),
            before=request.args.get("before"),
            filters=filters,
        )
    except queue_pages.BadCursor:
        flash("Lien de pagination invalide : voici la première page.", "error")
        page, status = queue_pages.page(query, filters.sort, filters=filters), 400
    return render_template(
        "instruction/queue.html",
        form=form,
        rows=page.rows,
        page=page,
        total=queue_pages.capped_count(query),
        count_cap=queue_pages.COUNT_CAP,
        unread=unread_counts(current_user.id, [r.id for r in page.rows]),
        args=args,
        restored=restored and bool(args),
    ), status


@bp.get("/export.csv")
def export_queue():
    """The current selection (same filters as the queue) as CSV."""
    form, _ = _queue_form()
    filters = _filters(form)
    if form.errors:
        return Response(
            "Filtres invalides : corrigez-les sur la liste.\n", 400, mimetype="text/plain"
        )
    query = queue_pages.filtered(access.staff_requests(current_user), filters, current_user.id)
    if queue_pages.capped_count(query, queue_pages.EXPORT_CAP) > queue_pages.EXPORT_CAP:
        return Response(
            "La sélection compte plus de 50 000 demandes : affinez les filtres.\n",
            400,
            mimetype="text/plain",
        )
    response = Response(queue_pages.selection_csv(query, filters), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="datapass-demandes.csv"'
    return response


@bp.get("/requests/<int:request_id>")
def show(request_id: int):
    request_obj = access.staff_request_or_404(current_user, request_id)
    mark_read(current_user.id, request_obj.id)  # its messages are no longer "unread"
    db.session.commit()
    definition = get_definition(request_obj.definition_id)
    events = timeline(request_obj)
    last_submit = next((e for e in events if e.name == "submit"), None)
    return render_template(
        "instruction/show.html",
        request_obj=request_obj,
        definition=definition,
        events=events,
        changes=last_submit.changes if last_submit else None,
        messages=messages(request_obj),
        authorizations=authorizations(request_obj),
        decision_forms={
            key: DecisionForm(decision=key, lock_version=request_obj.lock_version)
            for key in DECISIONS
        },
        decisions=DECISIONS,
        message_form=MessageForm(),
        blocks=[BLOCKS[k] for k in definition.ordered_blocks],
    )


@bp.post("/requests/<int:request_id>/decision")
def decide(request_id: int):
    request_obj = access.staff_request_or_404(current_user, request_id)
    if not services.can_instruct(request_obj, current_user):
        abort(403)
    form = DecisionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for(".show", request_id=request_obj.id))
    decision, reason = form.decision.data, form.reason.data
    if decision == "approve":
        authorization = services.approve_request(
            request_obj, current_user, reason, form.lock_version.data
        )
        db.session.commit()
        flash(f"Demande validée : habilitation n°{authorization.id} délivrée.", "success")
    elif decision == "refuse":
        services.refuse_request(request_obj, current_user, reason, form.lock_version.data)
        db.session.commit()
        flash("Demande refusée. Le demandeur en est informé.", "success")
    else:
        services.request_changes(request_obj, current_user, reason, form.lock_version.data)
        db.session.commit()
        flash("Modifications demandées. Le demandeur en est informé.", "success")
    return redirect(url_for(".show", request_id=request_obj.id))
