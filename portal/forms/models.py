"""A journey in progress: the answers so far, saved after every step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, utcnow
from portal.database.ids import new_public_id


class Draft(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(
        String(40), unique=True, default=lambda: new_public_id("d")
    )
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    # The version of the service it started with: it keeps it after a new one is published.
    service_version: Mapped[int | None] = mapped_column()
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Field ids answered from the citizen's saved details (tell us once), not asked again.
    prefilled: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    # The agent who last changed it for the citizen, with their consent (assisted mode).
    assisted_by: Mapped[str | None] = mapped_column(String(120))
    assisted_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When its owner was told it will be deleted for being left unchanged (portal/retention/).
    deletion_warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
