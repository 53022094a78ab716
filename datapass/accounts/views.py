"""Sign-in and sign-out, and the user's organisations.

Two ways in: OpenID Connect (ProConnect in production, see oidc.py) and the development login,
which lists the demo accounts and exists only in development and testing (see config.validate).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired

from datapass.accounts import directory, oidc
from datapass.accounts.models import Membership, User
from datapass.accounts.siret import SiretValidator
from datapass.extensions import db, login_manager
from datapass.requests.forms import FrenchForm

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@bp.before_app_request
def _end_revoked_sessions():
    """A banned user, or one who signed out elsewhere, is signed out at the next request."""
    if not current_user.is_authenticated:
        return
    if current_user.is_banned or session.get("session_version") != current_user.session_version:
        logout_user()
        session.clear()
        flash("Votre session a pris fin. Connectez-vous à nouveau.", "info")


def start_session(user: User) -> None:
    """Sign `user` in; the session ends after SESSION_LIFETIME without activity."""
    session.clear()
    login_user(user)
    session.permanent = True  # each request renews the cookie (SESSION_REFRESH_EACH_REQUEST)
    session["session_version"] = user.session_version


class DevLoginForm(FlaskForm):
    email = HiddenField()


def _safe_next(target: str | None) -> str:
    """Only same-site paths, never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("catalog.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    dev_login = current_app.config["DEV_LOGIN"]
    if request.method == "POST" and not dev_login:
        abort(404)
    form = DevLoginForm()
    if dev_login and form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == form.email.data))
        if user is None:
            flash("Compte inconnu.", "error")
        elif user.is_banned:
            flash("Ce compte est suspendu.", "error")
        else:
            start_session(user)
            flash(f"Vous êtes connecté en tant que {user.full_name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    users = (
        db.session.scalars(select(User).order_by(User.is_admin, User.id)).all() if dev_login else []
    )
    return render_template(
        "accounts/login.html",
        form=form,
        users=users,
        dev_login=dev_login,
        oidc_enabled=oidc.is_enabled(),
        next=request.args.get("next", ""),
    )


@bp.get("/login/oidc")
def oidc_login():
    if not oidc.is_enabled():
        abort(404)
    session["oidc_next"] = _safe_next(request.args.get("next"))
    extra = {}
    if current_app.config["OIDC_ACR_VALUES"]:
        extra["acr_values"] = current_app.config["OIDC_ACR_VALUES"]
    return oidc.client().authorize_redirect(
        url_for("accounts.oidc_callback", _external=True), **extra
    )


@bp.get("/login/oidc/callback")
def oidc_callback():
    if not oidc.is_enabled():
        abort(404)
    try:
        claims = oidc.fetch_identity()
        user, warnings = oidc.sign_in_from_claims(claims)
    except oidc.SignInError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("accounts.login"))
    db.session.commit()
    target = session.get("oidc_next")
    start_session(user)
    session["oidc_id_token"] = claims["_id_token"]
    flash(f"Vous êtes connecté en tant que {user.full_name}.", "success")
    for warning in warnings:
        flash(warning, "warning")
    return redirect(_safe_next(target))


@bp.post("/logout")
@login_required
def logout():
    """Sign out everywhere: every session of the user ends, and the provider's too."""
    user = db.session.get(User, current_user.id)
    user.session_version += 1
    db.session.commit()
    id_token = session.get("oidc_id_token")
    logout_user()
    session.clear()
    if id_token and oidc.is_enabled():
        try:
            return oidc.client().logout_redirect(
                post_logout_redirect_uri=url_for("accounts.logout_callback", _external=True),
                id_token_hint=id_token,
            )
        except Exception as exc:  # noqa: BLE001 - a provider outage must not block signing out
            current_app.logger.warning("provider logout unavailable: %r", exc)
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("catalog.index"))


@bp.get("/logout/callback")
def logout_callback():
    if oidc.is_enabled():
        try:
            oidc.client().validate_logout_response()
        except oidc.AuthlibBaseError:
            flash("Retour de déconnexion invalide ; vous êtes néanmoins déconnecté.", "warning")
            return redirect(url_for("catalog.index"))
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("catalog.index"))


class AddOrganizationForm(FrenchForm):
    siret = StringField("Numéro SIRET", validators=[SiretValidator()])


class CurrentOrganizationForm(FrenchForm):
    organization_id = IntegerField(validators=[InputRequired()])


@bp.route("/organizations", methods=["GET", "POST"])
@login_required
def organizations():
    """The user's organisations, whether each membership is verified, and adding one by SIRET."""
    form = AddOrganizationForm()
    if form.validate_on_submit():
        try:
            organization = directory.organization_for_siret(form.siret.data)
        except directory.DirectoryError as exc:
            db.session.rollback()
            form.siret.errors = [str(exc)]
        else:
            if current_user.is_member_of(organization.id):
                form.siret.errors = ["Vous êtes déjà membre de cette organisation."]
            else:
                current_user.memberships.append(Membership(organization=organization))
                current_user.current_organization_id = organization.id
                db.session.commit()
                flash(
                    f"{organization.name} ajoutée. Votre appartenance n'est pas encore vérifiée.",
                    "success",
                )
                return redirect(url_for(".organizations"))
    memberships = sorted(current_user.memberships, key=lambda m: m.organization.name)
    return render_template("accounts/organizations.html", form=form, memberships=memberships), (
        400 if form.errors else 200
    )


@bp.post("/organizations/current")
@login_required
def switch_organization():
    form = CurrentOrganizationForm()
    if not form.validate_on_submit() or not current_user.is_member_of(form.organization_id.data):
        flash("Vous n'êtes pas membre de cette organisation.", "error")
        return redirect(url_for("requests.index")), 303
    current_user.current_organization_id = form.organization_id.data
    db.session.commit()
    flash(f"Vous agissez désormais pour {current_user.current_organization.name}.", "success")
    return redirect(_safe_next(request.form.get("next")), 303)
