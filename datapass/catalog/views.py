from __future__ import annotations

from flask import Blueprint, render_template

from datapass.catalog import all_definitions, definition_or_404

bp = Blueprint("catalog", __name__)


@bp.get("/")
def index():
    listed = [d for d in all_definitions().values() if d.public]
    return render_template("catalog/index.html", listed=sorted(listed, key=lambda d: d.name))


@bp.get("/catalog/<definition_id>")
def show(definition_id: str):
    definition = definition_or_404(definition_id)
    return render_template("catalog/show.html", definition=definition)
