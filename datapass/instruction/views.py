"""The instructors' pages: the queue, a request's review page, decisions and messages.

Reporters see the same pages read-only; deciding needs the instructor role on the definition.
"""

from __future__ import annotations

import math
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from datapass import access
from datapass.accounts.models import Organization, User
from datapass.catalog import all_definitions, get_definition
from datapass.extensions import db
from datapass.instruction.forms import DECISIONS, DecisionForm, QueueFilterForm
from datapass.lifecycle import services
from datapass.requests.blocks import BLOCKS
from datapass.requests.forms import MessageForm
from datapass.requests.models import STATE_LABELS, AuthorizationRequest
from datapass.requests.views import authorizations, messages, timeline

bp = Blueprint("instruction", __name__, url_prefix="/instruction")

ID_SEARCH = re.compile(r"^\s*(?:[dD]|#|n°\s*)?(\d{1,12})\s*$")
SORTS = {
    "updated_desc": (AuthorizationRequest.updated_at.desc(), AuthorizationRequest.id.desc()),
    "submitted_asc": (AuthorizationRequest.submitted_at.asc(), AuthorizationRequest.id.asc()),
    "created_desc": (AuthorizationRequest.created_at.desc(), AuthorizationRequest.id.desc()),
}


@bp.before_request
@login_required
def _staff_only():
    if not current_user.is_staff:
        abort(404)


def _search(query, text: str):
    match = ID_SEARCH.match(text)
    if match:
        return query.where(AuthorizationRequest.id == int(match.group(1)))
    pattern = f"%{text.strip().lower()}%"
    return query.where(
        or_(
            func.lower(AuthorizationRequest.data["intitule"].as_string()).like(pattern),
            func.lower(AuthorizationRequest.data["description"].as_string()).like(pattern),
            func.lower(Organization.name).like(pattern),
            Organization.siret.like(pattern),
            func.lower(User.email).like(pattern),
        )
    )


@bp.get("")
def queue():
    visible = current_user.definitions_with("reporter")
    definitions = [d for d in all_definitions().values() if visible is None or d.id in visible]
    form = QueueFilterForm(request.args)
    form.state.choices = [("", "Tous les états actifs")] + list(STATE_LABELS.items())
    form.definition.choices = [("", "Toutes les API")] + [(d.id, d.name) for d in definitions]
    query = (
        access.staff_requests(current_user)
        .join(Organization, AuthorizationRequest.organization_id == Organization.id)
        .join(User, AuthorizationRequest.applicant_id == User.id)
    )
    if form.validate():
        if form.state.data:
            query = query.where(AuthorizationRequest.state == form.state.data)
        else:
            # Drafts belong to applicants until submitted; archived ones are out of the way.
            query = query.where(AuthorizationRequest.state.not_in(("draft", "archived")))
        if form.definition.data:
            query = query.where(AuthorizationRequest.definition_id == form.definition.data)
        if form.q.data:
            query = _search(query, form.q.data)
    else:
        query = query.where(AuthorizationRequest.state.not_in(("draft", "archived")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    per_page = 25
    pages = max(1, math.ceil(total / per_page))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    order = SORTS.get(form.sort.data or "updated_desc", SORTS["updated_desc"])
    rows = db.session.scalars(
        query.order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "instruction/queue.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        args=args,
    )


@bp.get("/requests/<int:request_id>")
def show(request_id: int):
    request_obj = access.staff_request_or_404(current_user, request_id)
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
