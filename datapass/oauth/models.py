"""Credentials (OAuth 2 clients) and the access tokens issued to them.

A *consumer* credential is bound to one Authorization: its scopes are the approved scopes and its
audience is the definition id. A *producer* credential belongs to a definition and may only
introspect tokens of that audience. Secrets and tokens are stored as hashes, never in clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datapass.authorizations.models import Authorization
from datapass.extensions import db
from datapass.lifecycle.models import EVENT_LABELS
from datapass.models_base import UTCDateTime, utcnow
from datapass.oauth.hashing import secret_matches

CONSUMER, PRODUCER = "consumer", "producer"
# An API client (datapass.api): owned by a user, acts with the owner's rights on API v1;
# its tokens' audience (stored as its definition_id) is API_AUDIENCE.
API, API_AUDIENCE, API_TOKEN_LIFETIME = "api", "datapass_api", 3600

# The audit trail's labels for the events this package records.
EVENT_LABELS.update(
    {
        "issue_credential": "Identifiants OAuth délivrés",
        "generate_secret": "Secret OAuth généré",
        "rotate_secret": "Secret OAuth renouvelé",
        "revoke_token": "Jeton d'accès révoqué",
        "revoke_credential": "Identifiants OAuth révoqués",
        "issue_producer_credential": "Identifiants de fournisseur délivrés",
        "revoke_producer_credential": "Identifiants de fournisseur révoqués",
        "rotate_signing_key": "Clé de signature renouvelée",
    }
)


class Credential(db.Model):
    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=CONSUMER)
    # The audience: tokens of a consumer carry it as `aud`; a producer introspects only it.
    definition_id: Mapped[str] = mapped_column(String(100), index=True)
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorizations.id"), index=True, nullable=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # HMAC-SHA256 of the secret (hex); none until the applicant generates it.
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    secret_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The secret replaced by the last rotation, accepted until `previous_secret_expires_at`.
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True
    )
    # The owner of an API client; who created a producer credential.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), index=True, nullable=True
    )
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)  # API clients
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    authorization: Mapped[Authorization | None] = relationship()

    @property
    def is_consumer(self) -> bool:
        return self.kind == CONSUMER

    # Authlib's ClientMixin, the parts the client-credentials grant and the endpoints use.

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # The requested scope was checked by the grant (more than granted is invalid_scope).
        return scope if scope is not None else " ".join(self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if method not in ("client_secret_basic", "client_secret_post") or self.revoked_at:
            return False
        if endpoint == "introspection":
            return self.kind == PRODUCER
        return self.kind in (CONSUMER, API)

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return self.kind in (CONSUMER, API) and grant_type == "client_credentials"


class AccessToken(db.Model):
    """An issued JWT, looked up by the SHA-256 of its compact form (introspection, revocation)."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    # The authorization the token was issued under: its state decides whether the token lives.
    # None for an API client's token.
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorizations.id"), index=True, nullable=True
    )
    audience: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    credential: Mapped[Credential] = relationship()
    authorization: Mapped[Authorization | None] = relationship()

    def check_client(self, client: Credential) -> bool:
        """Authlib's revocation: a client revokes only its own tokens."""
        return self.credential_id == client.id
