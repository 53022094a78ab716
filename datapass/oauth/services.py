"""What happens to credentials: issued at approval, secrets generated and rotated, tokens stored
and revoked, producer credentials issued. Every issue, rotation and revocation is an Event.

Like datapass.lifecycle, services only flush; the view (or CLI) commits once.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from datapass.accounts.models import User
from datapass.authorizations.models import Authorization
from datapass.errors import Conflict, Forbidden
from datapass.extensions import db
from datapass.lifecycle.services import record_event
from datapass.oauth import clock
from datapass.oauth.hashing import generate_client_id, generate_secret, hash_secret, token_hash
from datapass.oauth.models import CONSUMER, PRODUCER, AccessToken, Credential
from datapass.oauth.producer_cache import PRODUCER_CACHE_EXTENSION
from datapass.oauth.validity import authorization_is_live


def credential_for(authorization: Authorization) -> Credential | None:
    """The consumer credential bound to this authorization, if any."""
    return db.session.scalar(
        select(Credential).where(
            Credential.authorization_id == authorization.id, Credential.kind == CONSUMER
        )
    )


def issue_credential(authorization: Authorization, user: User | None) -> Credential:
    """Bind an OAuth client to a newly approved authorization, in the approval's transaction.

    A request approved again (reopening) keeps its client_id and secret: the credential moves to
    the new authorization and takes its scopes, so new tokens carry what was approved last. No
    secret exists yet: the applicant generates it from the authorization page and sees it once.
    """
    credential = db.session.scalar(
        select(Credential)
        .join(Authorization, Credential.authorization_id == Authorization.id)
        .where(Authorization.request_id == authorization.request_id, Credential.kind == CONSUMER)
        .order_by(Credential.id.desc())
    )
    if credential is None:
        credential = Credential(client_id=generate_client_id(), kind=CONSUMER)
        db.session.add(credential)
    credential.authorization_id = authorization.id
    credential.definition_id = authorization.definition_id
    credential.scopes = list(authorization.scopes)
    db.session.flush()
    record_event(
        "issue_credential",
        user,
        request_obj=authorization.request,
        authorization=authorization,
        reason=f"client_id {credential.client_id}",
    )
    return credential


def can_manage_credential(credential: Credential, user: User) -> bool:
    """Only the applicant of the authorization generates or rotates its secret."""
    authorization = credential.authorization
    return bool(credential.is_consumer and authorization and authorization.applicant_id == user.id)


def renew_secret(credential: Credential, user: User) -> str:
    """Generate the credential's secret, or rotate it; returns it in clear, the only time.

    On rotation the previous secret keeps working for OAUTH_SECRET_GRACE_PERIOD seconds, so
    that the consumer can deploy the new one without downtime; only that one previous secret is
    kept (rotating twice drops the oldest at once).
    """
    if not can_manage_credential(credential, user):
        raise Forbidden("Seul le demandeur de l'habilitation gère son secret.")
    if not authorization_is_live(credential.authorization):
        raise Conflict("Cette habilitation n'est plus active : son secret ne peut plus changer.")
    secret = generate_secret()
    now = clock.now()
    rotated = credential.secret_hash is not None
    if rotated:
        grace = timedelta(seconds=current_app.config["OAUTH_SECRET_GRACE_PERIOD"])
        credential.previous_secret_hash = credential.secret_hash
        credential.previous_secret_expires_at = now + grace
    credential.secret_hash = hash_secret(secret)
    credential.secret_created_at = now
    db.session.flush()
    record_event(
        "rotate_secret" if rotated else "generate_secret",
        user,
        request_obj=credential.authorization.request,
        authorization=credential.authorization,
        reason=f"client_id {credential.client_id}",
    )
    return secret


def store_access_token(credential: Credential, access_token: str, claims: dict) -> AccessToken:
    """Record an issued JWT (by its hash) so that introspection and revocation can find it."""
    now = clock.now()
    token = AccessToken(
        token_hash=token_hash(access_token),
        jti=claims["jti"],
        credential_id=credential.id,
        authorization_id=credential.authorization_id,
        audience=claims["aud"],
        scope=claims.get("scope", ""),
        issued_at=now,
        expires_at=now + timedelta(seconds=claims["exp"] - claims["iat"]),
    )
    db.session.add(token)
    credential.last_used_at = now
    db.session.flush()
    return token


def find_access_token(access_token: str) -> AccessToken | None:
    return db.session.scalar(
        select(AccessToken).where(AccessToken.token_hash == token_hash(access_token))
    )


def revoke_access_token(token: AccessToken) -> None:
    """RFC 7009: the token reads inactive from now on."""
    if token.revoked_at is not None:
        return
    token.revoked_at = clock.now()
    db.session.flush()
    authorization = token.authorization  # none for an API client's token
    record_event(
        "revoke_token",
        None,
        request_obj=authorization.request if authorization else None,
        authorization=authorization,
        reason=f"client_id {token.credential.client_id}, jti {token.jti}",
    )


def revoke_credential(credential: Credential, user: User | None, reason: str = "") -> None:
    """Revoke a consumer or API credential and its live tokens: nothing it holds works now."""
    if credential.revoked_at is not None:
        return
    now = clock.now()
    credential.revoked_at = now
    for token in db.session.scalars(
        select(AccessToken).where(
            AccessToken.credential_id == credential.id, AccessToken.revoked_at.is_(None)
        )
    ):
        token.revoked_at = now
    db.session.flush()
    authorization = credential.authorization
    record_event(
        "revoke_credential",
        user,
        request_obj=authorization.request if authorization else None,
        authorization=authorization,
        reason=" — ".join(filter(None, [f"client_id {credential.client_id}", reason])),
    )


def issue_producer_credential(definition_id: str, user: User) -> tuple[Credential, str]:
    """A credential with which the producer of `definition_id` introspects its tokens.

    Returns it with its secret in clear, shown once. Needs the developer role on the definition.
    """
    if not user.has_role("developer", definition_id):
        raise Forbidden("Vous n'êtes pas développeur de cette API.")
    secret = generate_secret()
    credential = Credential(
        client_id=generate_client_id(),
        kind=PRODUCER,
        definition_id=definition_id,
        scopes=[],
        secret_hash=hash_secret(secret),
        secret_created_at=clock.now(),
        created_by_id=user.id,
    )
    db.session.add(credential)
    db.session.flush()
    record_event(
        "issue_producer_credential",
        user,
        reason=f"{definition_id}: client_id {credential.client_id}",
    )
    return credential, secret


def revoke_producer_credential(credential: Credential, user: User) -> None:
    if credential.kind != PRODUCER or not user.has_role("developer", credential.definition_id):
        raise Forbidden("Vous n'êtes pas développeur de cette API.")
    if credential.revoked_at is None:
        credential.revoked_at = clock.now()
        db.session.flush()
        # This process forgets it at once; the others within OAUTH_PRODUCER_CACHE_TTL.
        current_app.extensions[PRODUCER_CACHE_EXTENSION].forget(credential.client_id)
        record_event(
            "revoke_producer_credential",
            user,
            reason=f"{credential.definition_id}: client_id {credential.client_id}",
        )


def producer_credentials(definition_ids: set[str] | None) -> list[Credential]:
    """Producer credentials of these definitions (None: all), newest first."""
    query = select(Credential).where(Credential.kind == PRODUCER)
    if definition_ids is not None:
        query = query.where(Credential.definition_id.in_(definition_ids))
    return list(db.session.scalars(query.order_by(Credential.id.desc())))
