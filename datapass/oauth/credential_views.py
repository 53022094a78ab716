"""The applicant's side of a credential: generate or rotate the secret, shown once."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from datapass import access
from datapass.extensions import db
from datapass.oauth import services

bp = Blueprint("credentials", __name__, url_prefix="/authorizations")


@bp.post("/<int:authorization_id>/credential/secret")
@login_required
def renew_secret(authorization_id: int):
    """Generate (first time) or rotate the secret; this response is the one place it appears.

    CSRF is checked by CSRFProtect, as for every form post."""
    authorization = access.authorization_or_404(current_user, authorization_id)
    credential = services.credential_for(authorization)
    if credential is None or not current_user.is_member_of(authorization.organization_id):
        abort(404)
    rotated = credential.secret_hash is not None
    secret = services.renew_secret(credential, current_user)
    db.session.commit()
    response = render_template(
        "oauth/secret.html",
        authorization=authorization,
        credential=credential,
        secret=secret,
        rotated=rotated,
    )
    return response, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
