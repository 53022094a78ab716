"""Every model, imported once so that the metadata (and Alembic) sees all tables."""

from datapass.accounts.models import Membership, Organization, Role, User
from datapass.authorizations.models import Authorization
from datapass.lifecycle.models import Event
from datapass.oauth.models import AccessToken, Credential
from datapass.requests.models import AuthorizationRequest, Document, Message

__all__ = [
    "AccessToken",
    "Authorization",
    "AuthorizationRequest",
    "Credential",
    "Document",
    "Event",
    "Membership",
    "Message",
    "Organization",
    "Role",
    "User",
]
