"""Rights management pages: managers grant and remove roles within their scope; admins manage
everything, verify memberships, ban users, impersonate one for support, and read the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length

from datapass.accounts import rights
from datapass.accounts.models import ROLE_LABELS, ROLES, Membership, Role, User
from datapass.errors import DomainError
from datapass.extensions import db
from datapass.lifecycle.models import Event
from datapass.requests.forms import FrenchForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _signed_in():
    """Every page of this blueprint needs a signed-in user; each checks its own right."""


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


class GrantRoleForm(FrenchForm):
    email = StringField(
        "Adresse électronique de l'agent",
        validators=[
            InputRequired("Indiquez l'adresse électronique."),
            Email("Adresse électronique invalide."),
        ],
    )
    role = SelectField("Rôle")
    scope = SelectField("Périmètre")


class ReasonForm(FrenchForm):
    reason = TextAreaField(
        "Motif",
        validators=[InputRequired("Indiquez un motif."), Length(max=2000)],
    )


def _scoped_roles() -> list[Role]:
    scopes = [s for s, _ in rights.manageable_scopes(current_user)]
    query = select(Role).where(Role.definition_id.in_(scopes)).order_by(Role.definition_id)
    return db.session.scalars(query).all()


@bp.route("/rights", methods=["GET", "POST"])
def rights_index():
    if not current_user.can_manage_roles:
        abort(403)
    form = GrantRoleForm()
    form.role.choices = [(r, ROLE_LABELS[r]) for r in ROLES]
    form.scope.choices = rights.manageable_scopes(current_user)
    status = 200
    if form.validate_on_submit():
        target = db.session.scalar(select(User).where(User.email == form.email.data.lower()))
        try:
            if target is None:
                raise DomainError("Aucun compte avec cette adresse : l'agent doit s'être connecté.")
            rights.grant_role(current_user, target, form.role.data, form.scope.data)
        except DomainError as exc:
            db.session.rollback()
            form.email.errors = [exc.message]
            status = 400
        else:
            db.session.commit()
            flash(f"Rôle attribué à {target.full_name}.", "success")
            return redirect(url_for(".rights_index"), 303)
    elif form.errors:
        status = 400
    users = {u.id: u for u in db.session.scalars(select(User))}
    return render_template(
        "admin/rights.html", form=form, roles=_scoped_roles(), users=users
    ), status


@bp.post("/rights/<int:role_id>/remove")
def remove_role(role_id: int):
    role_obj = db.session.get(Role, role_id)
    if role_obj is None or not rights.can_manage_scope(current_user, role_obj.definition_id):
        abort(404)
    rights.remove_role(current_user, role_obj)
    db.session.commit()
    flash("Rôle retiré.", "success")
    return redirect(url_for(".rights_index"), 303)


@bp.get("/users")
def users():
    _require_admin()
    q = request.args.get("q", "").strip()
    query = select(User).order_by(User.family_name, User.id)
    if q:
        pattern = f"%{q}%"
        query = query.where(or_(User.email.ilike(pattern), User.family_name.ilike(pattern)))
    return render_template("admin/users.html", users=db.session.scalars(query).all(), q=q)


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    _require_admin()
    return _render_user(_user_or_404(user_id), ReasonForm())


def _render_user(target: User, form: ReasonForm, status: int = 200):
    return render_template("admin/user.html", target=target, form=form), status


def _admin_action(user_id: int, action) -> object:
    """Run `action(target, reason)` from a reason form; errors re-render the page."""
    _require_admin()
    target = _user_or_404(user_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _render_user(target, form, 400)
    try:
        action(target, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        form.reason.errors = [exc.message]
        return _render_user(target, form, exc.status)
    db.session.commit()
    return None


@bp.post("/users/<int:user_id>/ban")
def ban(user_id: int):
    error = _admin_action(user_id, lambda t, r: rights.ban_user(current_user, t, r))
    if error:
        return error
    flash("Compte suspendu : ses sessions prennent fin.", "success")
    return redirect(url_for(".user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/unban")
def unban(user_id: int):
    error = _admin_action(user_id, lambda t, r: rights.unban_user(current_user, t, r))
    if error:
        return error
    flash("Compte rétabli.", "success")
    return redirect(url_for(".user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/memberships/<int:membership_id>/verify")
def verify_membership(user_id: int, membership_id: int):
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != user_id:
        abort(404)
    error = _admin_action(
        user_id, lambda t, r: rights.verify_membership(current_user, membership, r)
    )
    if error:
        return error
    flash("Appartenance vérifiée.", "success")
    return redirect(url_for(".user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/impersonate")
def impersonate(user_id: int):
    from datapass.accounts.views import start_session

    admin_id = current_user.id
    error = _admin_action(user_id, lambda t, r: rights.start_impersonation(current_user, t, r))
    if error:
        return error
    start_session(_user_or_404(user_id))
    session["impersonator_id"] = admin_id
    flash("Vous agissez maintenant en tant que cet utilisateur (support).", "warning")
    return redirect(url_for("catalog.index"), 303)


@bp.post("/impersonation/stop")
def stop_impersonation():
    from datapass.accounts.views import start_session

    admin = db.session.get(User, session.get("impersonator_id") or 0)
    if admin is None or not admin.is_admin or admin.is_banned:
        abort(403)
    rights.record_audit("stop_impersonation", admin, current_user._get_current_object())
    db.session.commit()
    start_session(admin)
    flash("Vous avez repris votre compte.", "success")
    return redirect(url_for(".users"), 303)


@bp.get("/audit")
def audit():
    _require_admin()
    events = db.session.scalars(
        select(Event)
        .where(Event.name.in_(rights.AUDIT_EVENTS))
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(500)
    ).all()
    return render_template("admin/audit.html", events=events, labels=rights.AUDIT_EVENTS)
