"""Work still to do outside the database (calls to departments, notifications), written in the
same transaction as the change that needs it, so nothing accepted is ever lost."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, utcnow

UNKNOWN_TARGET = "unknown"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    # The backend it goes to (a department id, "mail", "sms", "whatsapp", "bills", "payments"),
    # so operators see one backend's queue at a glance; "unknown" for rows older than the column.
    target: Mapped[str] = mapped_column(
        String(64), default=UNKNOWN_TARGET, server_default=UNKNOWN_TARGET, index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Sent to the backend as its Idempotency-Key: a retry after a lost answer creates nothing new.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    # pending, done, failed (parked for a person), cancelled (by an operator; never sent).
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    # A worker holds a message until then; if it dies mid-call, another takes it after.
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
