"""JSON shapes of API v1 (described by openapi.yaml). Never a secret nor a hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from datapass.accounts.models import Organization, User
from datapass.authorizations.models import Authorization
from datapass.lifecycle.models import Event
from datapass.oauth.models import Credential
from datapass.oauth.services import credential_for
from datapass.oauth.validity import authorization_expires_at
from datapass.requests.blocks import data_keys
from datapass.requests.models import AuthorizationRequest
from workflows.loader import Definition


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def organization_json(organization: Organization) -> dict[str, Any]:
    return {"siret": organization.siret, "name": organization.name}


def user_json(user: User) -> dict[str, Any]:
    return {"email": user.email, "given_name": user.given_name, "family_name": user.family_name}


def definition_json(definition: Definition, *, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": definition.id,
        "name": definition.name,
        "provider": {"slug": definition.provider.slug, "name": definition.provider.name},
        "public": definition.public,
        "stage": definition.stage.type if definition.stage else None,
    }
    if full:
        body |= {
            "description": definition.description,
            "documentation_url": str(definition.documentation_url),
            "terms_url": str(definition.terms_url),
            "blocks": definition.ordered_blocks,
            "scopes": [
                {
                    "value": s.value,
                    "label": s.label,
                    "group": s.group,
                    "included": s.included,
                    "disabled": s.disabled,
                }
                for s in definition.scopes
            ],
            "volumes": list(definition.volumes),
            "data_keys": data_keys(definition),
            "features": definition.features.model_dump(),
        }
    return body


def request_json(request_obj: AuthorizationRequest) -> dict[str, Any]:
    return {
        "id": request_obj.id,
        "definition": request_obj.definition_id,
        "state": request_obj.state,
        "organization": organization_json(request_obj.organization),
        "applicant": user_json(request_obj.applicant),
        "data": dict(request_obj.data),
        "documents": [d.snapshot() for d in request_obj.documents],
        "lock_version": request_obj.lock_version,
        "created_at": iso(request_obj.created_at),
        "updated_at": iso(request_obj.updated_at),
        "submitted_at": iso(request_obj.submitted_at),
        "decided_at": iso(request_obj.decided_at),
    }


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "label": event.label,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "user": event.user.email if event.user else None,
        "authorization_id": event.authorization_id,
        "via": event.via or "web",
        "created_at": iso(event.created_at),
    }


def credential_json(credential: Credential | None) -> dict[str, Any] | None:
    if credential is None:
        return None
    return {
        "client_id": credential.client_id,
        "scopes": list(credential.scopes),
        "has_secret": credential.secret_hash is not None,
        "secret_created_at": iso(credential.secret_created_at),
        "last_used_at": iso(credential.last_used_at),
        "revoked_at": iso(credential.revoked_at),
    }


def authorization_json(authorization: Authorization) -> dict[str, Any]:
    return {
        "id": authorization.id,
        "request_id": authorization.request_id,
        "definition": authorization.definition_id,
        "state": authorization.state,
        "organization": organization_json(authorization.organization),
        "scopes": list(authorization.scopes),
        "created_at": iso(authorization.created_at),
        "expires_at": iso(authorization_expires_at(authorization)),
        "revoked_at": iso(authorization.revoked_at),
        "credential": credential_json(credential_for(authorization)),
    }
