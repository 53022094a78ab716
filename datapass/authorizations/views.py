from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from datapass import access
from datapass.catalog import get_definition
from datapass.requests.blocks import BLOCKS

bp = Blueprint("authorizations", __name__, url_prefix="/authorizations")


@bp.get("/<int:authorization_id>")
@login_required
def show(authorization_id: int):
    authorization = access.authorization_or_404(current_user, authorization_id)
    definition = get_definition(authorization.definition_id)
    return render_template(
        "authorizations/show.html",
        authorization=authorization,
        definition=definition,
        blocks=[BLOCKS[k] for k in definition.ordered_blocks],
    )
