"""A citizen's consent for an agent to act for them: how it was given and why, kept for as long
as the applications it led to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, utcnow
from portal.database.ids import new_public_id


class Consent(Base):
    __tablename__ = "assisted_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(
        String(40), unique=True, default=lambda: new_public_id("k")
    )
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    agent: Mapped[str] = mapped_column(String(120))  # staff:<subject>
    agent_name: Mapped[str] = mapped_column(String(200))
    how: Mapped[str] = mapped_column(String(16))  # phone, in_person, writing
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
