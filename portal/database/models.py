"""Every feature's models, imported so that Alembic sees the whole schema."""

from portal.audit.models import AuditEvent
from portal.database.engine import Base
from portal.feedback.models import PageFeedback

__all__ = ["AuditEvent", "Base", "PageFeedback"]
