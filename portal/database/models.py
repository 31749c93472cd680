"""Every feature's models, imported so that Alembic sees the whole schema."""

from portal.audit.models import AuditEvent
from portal.database.engine import Base
from portal.database.store import StoredValue
from portal.feedback.models import PageFeedback
from portal.identity.models import Citizen, SignInCode, SignInCodeFailure

__all__ = [
    "AuditEvent",
    "Base",
    "Citizen",
    "PageFeedback",
    "SignInCode",
    "SignInCodeFailure",
    "StoredValue",
]
