"""Sign-in and sign-out. The development login lists the demo accounts; it exists only in
development and testing (see config.validate), and OpenID Connect comes with ProConnect."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField

from datapass.accounts.models import User
from datapass.extensions import db, login_manager

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


class DevLoginForm(FlaskForm):
    email = HiddenField()


def _safe_next(target: str | None) -> str:
    """Only same-site paths, never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("catalog.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if not current_app.config["DEV_LOGIN"]:
        abort(404)
    form = DevLoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == form.email.data))
        if user is None:
            flash("Compte inconnu.", "error")
        else:
            login_user(user)
            flash(f"Vous êtes connecté en tant que {user.full_name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    users = db.session.scalars(select(User).order_by(User.is_admin, User.id)).all()
    return render_template("accounts/login.html", form=form, users=users)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("catalog.index"))
