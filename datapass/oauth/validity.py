"""Whether an authorization still lets its credential work: active and not expired.

Both functions read only `state`, `definition_id` and `created_at`: an Authorization, or the
lighter facts introspection reads (introspection.AuthorizationFacts)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from datapass.authorizations.models import Authorization
from datapass.catalog import get_definition
from datapass.oauth import clock


def authorization_expires_at(authorization: Authorization | Any) -> datetime | None:
    """End of validity from the definition's `authorization_lifetime_days`, none if unlimited."""
    days = get_definition(authorization.definition_id).authorization_lifetime_days
    return authorization.created_at + timedelta(days=days) if days else None


def authorization_is_live(authorization: Authorization | Any | None) -> bool:
    """Checked at token issuance and at introspection, so revocation and expiry are immediate."""
    if authorization is None or authorization.state != "active":
        return False
    expires_at = authorization_expires_at(authorization)
    return expires_at is None or clock.now() < expires_at
