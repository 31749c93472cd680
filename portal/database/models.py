"""Every feature's models, imported so that Alembic sees the whole schema."""

from portal.database.engine import Base
from portal.feedback.models import PageFeedback

__all__ = ["Base", "PageFeedback"]
