"""Every model, imported once so that the metadata (and Alembic) sees all tables."""

from datapass.accounts.models import Membership, Organization, Role, User
from datapass.authorizations.models import Authorization
from datapass.instruction.reads import RequestRead
from datapass.instruction.tools import InstructorNote, MessageTemplate
from datapass.lifecycle.models import Event
from datapass.lifecycle.records import Reminder, Reopening, RequestOrigin
from datapass.notifications.models import EmailOptOut, OutboxMessage, Webhook, WebhookAttempt
from datapass.oauth.models import AccessToken, Credential
from datapass.requests.models import AuthorizationRequest, Document, Message

__all__ = [
    "AccessToken",
    "Authorization",
    "AuthorizationRequest",
    "Credential",
    "Document",
    "EmailOptOut",
    "Event",
    "InstructorNote",
    "Membership",
    "Message",
    "MessageTemplate",
    "Organization",
    "OutboxMessage",
    "Reminder",
    "Reopening",
    "RequestOrigin",
    "RequestRead",
    "Role",
    "User",
    "Webhook",
    "WebhookAttempt",
]
