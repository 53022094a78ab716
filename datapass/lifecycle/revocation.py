"""Revoking an authorization: an instructor withdraws it, with a reason.

The authorization's machine moves it to "revoked"; its request, when that authorization is the
one it holds ("validated"), moves to "revoked" as well; its credential is revoked, so no token is
issued or introspected active any more. A reopening in progress ends first (cancelled, its data
restored): otherwise validating it later would bring a revoked authorization back to life.
`revoke_request` is the same act started from the request (instruction page). Like the other
services, this only flushes.
"""

from __future__ import annotations

from datapass.accounts.models import User
from datapass.authorizations.models import Authorization
from datapass.errors import Conflict, Forbidden
from datapass.extensions import db
from datapass.lifecycle import reopening, services
from datapass.lifecycle.models import EVENT_LABELS, Event
from datapass.lifecycle.services import record_event
from datapass.models_base import utcnow
from datapass.requests.models import AuthorizationRequest
from workflows.machines import AuthorizationFlow, IllegalTransition, RequestFlow

EVENT_LABELS.setdefault("revoke_authorization", "Habilitation révoquée")


def can_revoke(authorization: Authorization, user: User) -> bool:
    return user.has_role("instructor", authorization.definition_id)


def revoke_authorization(authorization: Authorization, user: User, reason: str) -> Event:
    """Revoke `authorization`; Forbidden unless instructor, Conflict unless active."""
    from datapass.oauth.services import credential_for, revoke_credential

    if not can_revoke(authorization, user):
        raise Forbidden("Vous n'instruisez pas cette API.")
    reason = (reason or "").strip()
    flow = AuthorizationFlow(authorization.state, has_reason=bool(reason))
    try:
        authorization.state = flow.fire("revoke")
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from exc
    authorization.revoked_at = utcnow()
    request_obj = authorization.request
    if reopening.is_reopening(request_obj):
        reopening.cancel_reopening(request_obj, user, reason, outcome="revoked")
    event = record_event(
        "revoke_authorization",
        user,
        request_obj=request_obj,
        authorization=authorization,
        from_state="active",
        to_state="revoked",
        reason=reason,
    )
    if request_obj.state == "validated":
        request_obj.state = RequestFlow(request_obj.state, has_reason=True).fire("revoke")
        record_event(
            "revoke",
            user,
            request_obj=request_obj,
            from_state="validated",
            to_state="revoked",
            reason=reason,
        )
        # A request under reopening keeps its credential for its next validation; meanwhile
        # its tokens read inactive anyway, the authorization being revoked.
        credential = credential_for(authorization)
        if credential is not None:
            revoke_credential(credential, user, reason)
    db.session.flush()
    return event


def revoke_request(
    request_obj: AuthorizationRequest, user: User, reason: str, expected_version: int | None = None
) -> Event:
    """Revoke a validated request (and its active authorization, whose credential stops)."""
    services._decide(request_obj, user, expected_version)
    active = reopening.active_authorization(request_obj)
    if active is not None:
        return revoke_authorization(active, user, reason)
    # No active authorization left (it expired): only the request moves.
    reason = (reason or "").strip()
    event = services._fire(request_obj, user, "revoke", reason=reason, has_reason=bool(reason))
    services._flush()
    return event
