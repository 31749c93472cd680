"""One row per answer to "Is this page useful?"."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base


def _now() -> datetime:
    return datetime.now(UTC)


class PageFeedback(Base):
    __tablename__ = "page_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(500), index=True)
    useful: Mapped[bool]
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
