"""New requests made from another one: a copy into a new draft, or the production stage of a
validated sandbox request (API Impôt particulier), pre-filled from what the sandbox validated.

The new request is a draft of its own: its validation issues its own authorization and its own
credential, distinct from the source's.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from datapass.accounts.models import User
from datapass.catalog import all_definitions, get_definition
from datapass.errors import Conflict, DomainError, Forbidden
from datapass.extensions import db
from datapass.lifecycle import reopening, services
from datapass.lifecycle.records import COPY, STAGE, RequestOrigin
from datapass.requests.models import AuthorizationRequest, Document
from workflows.loader import Definition


def _new_draft(
    source: AuthorizationRequest,
    user: User,
    definition: Definition,
    data: dict[str, Any],
    documents: list[dict[str, Any]],
    kind: str,
) -> AuthorizationRequest:
    request_obj = services.start_request(user, definition, source.organization)
    request_obj.data.update(copy.deepcopy(data))
    for snapshot in documents:
        request_obj.documents.append(
            Document(
                filename=snapshot["filename"],
                size=snapshot["size"],
                sha256=snapshot["sha256"],
                uploaded_by_id=user.id,
            )
        )
    db.session.add(RequestOrigin(request_id=request_obj.id, source_request_id=source.id, kind=kind))
    services._flush()
    return request_obj


def can_copy(request_obj: AuthorizationRequest, user: User) -> bool:
    return user.is_member_of(request_obj.organization_id)


def copy_request(source: AuthorizationRequest, user: User) -> AuthorizationRequest:
    """A new draft holding the source's data and documents, for the same organisation."""
    if not can_copy(source, user):
        raise Forbidden("Seuls les membres de l'organisation peuvent copier cette demande.")
    definition = get_definition(source.definition_id)
    request_obj = _new_draft(
        source,
        user,
        definition,
        dict(source.data),
        [d.snapshot() for d in source.documents],
        COPY,
    )
    services.record_event(
        "copy", user, request_obj=request_obj, reason=f"Copie de la demande n°{source.id}"
    )
    services._flush()
    return request_obj


def production_definition(definition_id: str) -> Definition | None:
    """The production stage that follows this (sandbox) definition, if any."""
    return next(
        (
            d
            for d in all_definitions().values()
            if d.stage and d.stage.type == "production" and d.stage.previous == definition_id
        ),
        None,
    )


def production_request(source: AuthorizationRequest) -> AuthorizationRequest | None:
    """The production request already started from this sandbox request (not archived)."""
    return db.session.scalar(
        select(AuthorizationRequest)
        .join(RequestOrigin, RequestOrigin.request_id == AuthorizationRequest.id)
        .where(
            RequestOrigin.source_request_id == source.id,
            RequestOrigin.kind == STAGE,
            AuthorizationRequest.state != "archived",
        )
    )


def can_start_production(source: AuthorizationRequest, user: User) -> bool:
    return (
        user.is_member_of(source.organization_id)
        and production_definition(source.definition_id) is not None
        and reopening.active_authorization(source) is not None
        and production_request(source) is None
    )


def start_production(source: AuthorizationRequest, user: User) -> AuthorizationRequest:
    """Start the production stage from a validated sandbox request, pre-filled from the data
    its active authorization holds (scopes kept only where production grants them)."""
    if not user.is_member_of(source.organization_id):
        raise Forbidden("Seuls les membres de l'organisation peuvent poursuivre cette demande.")
    production = production_definition(source.definition_id)
    if production is None:
        raise DomainError("Cette API n'a pas d'étape de production.")
    authorization = reopening.active_authorization(source)
    if authorization is None:
        raise Conflict(
            "La demande de bac à sable doit être validée, avec une habilitation active, "
            "avant de passer en production."
        )
    existing = production_request(source)
    if existing is not None:
        raise Conflict(f"La demande de production existe déjà : demande n°{existing.id}.")
    data = dict(authorization.data)
    grantable = {s.value for s in production.grantable_scopes}
    data["scopes"] = [s for s in data.get("scopes", []) if s in grantable]
    request_obj = _new_draft(source, user, production, data, authorization.documents, STAGE)
    reason = f"À partir de la demande de bac à sable n°{source.id}"
    services.record_event("start_production", user, request_obj=request_obj, reason=reason)
    services.record_event(
        "start_production",
        user,
        request_obj=source,
        reason=f"Demande de production n°{request_obj.id} commencée",
    )
    services._flush()
    return request_obj
