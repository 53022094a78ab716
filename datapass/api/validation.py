"""Request payloads checked by the same block forms as the web steps, field by field."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from datapass.api.problems import ApiProblem, field_error, validation_problem
from datapass.requests.blocks import BLOCKS, data_keys, incomplete_blocks, stored_form
from workflows.loader import Definition

SCALARS = (str, int, float)


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        raise ApiProblem(400, "invalid_json", "Le corps de la requête doit être un objet JSON.")
    if not isinstance(body, dict):
        raise validation_problem([field_error("body", "Un objet JSON est attendu.")])
    return body


def reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise validation_problem(
            [field_error(k, "Champ inconnu.") for k in unknown], allowed_fields=sorted(allowed)
        )


def _formdata(values: dict[str, Any], errors: list[dict[str, str]]) -> MultiDict:
    formdata = MultiDict()
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (*SCALARS, list)):
            errors.append(field_error(f"data.{key}", "Texte, nombre ou liste attendu."))
        elif isinstance(value, list):
            if not all(isinstance(v, SCALARS) and not isinstance(v, bool) for v in value):
                errors.append(field_error(f"data.{key}", "Liste de textes attendue."))
            for item in value:
                formdata.add(key, str(item))
        else:
            formdata.add(key, str(value))
    return formdata


def clean_data(
    definition: Definition, patch: Any, existing: dict[str, Any], request_obj=None
) -> dict[str, Any]:
    """The values of `patch` as the block forms store them; 422 naming each field at fault.

    Unknown keys are refused with the list of allowed ones. A draft may stay partial: only the
    fields sent are checked (with the rest of their block as stored, for cross-field rules).
    """
    if not isinstance(patch, dict):
        raise validation_problem([field_error("data", "Un objet JSON est attendu.")])
    allowed = data_keys(definition)
    unknown = sorted(set(patch) - set(allowed))
    if unknown:
        raise validation_problem(
            [field_error(f"data.{k}", "Clé inconnue pour cette API.") for k in unknown],
            allowed_keys=allowed,
        )
    errors: list[dict[str, str]] = []
    cleaned: dict[str, Any] = {}
    merged = {**existing, **patch}
    for key in definition.ordered_blocks:
        block = BLOCKS[key]
        names = set(
            block.form_class(definition=definition, formdata=None, meta={"csrf": False})._fields
        )
        touched = [name for name in patch if name in names]
        if not touched:
            continue
        values = {name: merged.get(name) for name in names}
        form = block.form_class(
            formdata=_formdata(values, errors),
            definition=definition,
            request_obj=request_obj,
            meta={"csrf": False},
        )
        form.validate()
        data = form.to_data()
        for name in touched:
            for message in form[name].errors:
                errors.append(field_error(f"data.{name}", message))
            cleaned[name] = data[name]
        if "scopes" in touched:
            cleaned["scopes"] = data["scopes"]  # with the scopes the definition always includes
    if errors:
        raise validation_problem(_unique(errors))
    return cleaned


def _unique(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    seen, result = set(), []
    for error in errors:
        marker = (error["field"], error["message"])
        if marker not in seen:
            seen.add(marker)
            result.append(error)
    return result


def completeness_errors(definition: Definition, request_obj) -> list[dict[str, str]]:
    """What keeps a request from being submitted, field by field."""
    errors = []
    for key in incomplete_blocks(definition, request_obj):
        form = stored_form(BLOCKS[key], definition, request_obj)
        form.validate()
        fields = [(name, messages) for name, messages in form.errors.items() if messages]
        for name, messages in fields or [(key, ["Étape incomplète."])]:
            for message in messages:
                errors.append(field_error(f"data.{name}", message))
    return errors
