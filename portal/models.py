"""Every feature's models, imported so that Alembic sees the whole schema."""

from portal.applications.models import (
    Application,
    DepartmentRequest,
    Document,
    Notification,
    TimelineEvent,
)
from portal.assisted.models import Consent
from portal.audit.models import AuditEvent
from portal.conversations.models import ChatMessage, Conversation, Handoff
from portal.database.counters import LimitCounter
from portal.database.engine import Base
from portal.database.store import StoredValue
from portal.design.models import DesignedService, ServiceVersion
from portal.feedback.models import PageFeedback
from portal.forms.models import Draft
from portal.identity.models import Citizen, SignInCode
from portal.outbox.models import OutboxMessage
from portal.payments.models import Payment
from portal.translations.models import Publication, TranslationEdit

__all__ = [
    "Application",
    "AuditEvent",
    "Base",
    "ChatMessage",
    "Citizen",
    "Consent",
    "Conversation",
    "DepartmentRequest",
    "DesignedService",
    "Document",
    "Draft",
    "Handoff",
    "LimitCounter",
    "Notification",
    "OutboxMessage",
    "PageFeedback",
    "Payment",
    "Publication",
    "ServiceVersion",
    "SignInCode",
    "StoredValue",
    "TimelineEvent",
    "TranslationEdit",
]
