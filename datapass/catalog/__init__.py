"""The catalogue of definitions, loaded from workflows/definitions at start-up."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, current_app

from workflows.loader import Definition, load_definitions

EXTENSION_KEY = "datapass.definitions"


def init_app(app: Flask) -> None:
    """Load and validate every definition once; a bad file stops start-up (DefinitionError)."""
    app.extensions[EXTENSION_KEY] = load_definitions(Path(app.config["DEFINITIONS_DIR"]))


def all_definitions() -> dict[str, Definition]:
    return current_app.extensions[EXTENSION_KEY]


def get_definition(definition_id: str) -> Definition:
    """The definition with this id; KeyError if unknown (stored ids always exist)."""
    return all_definitions()[definition_id]


def definition_or_404(definition_id: str) -> Definition:
    return all_definitions().get(definition_id) or abort(404)
