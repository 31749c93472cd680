"""Work still to do outside the database (calls to departments, notifications), written in the
same transaction as the change that needs it, so nothing accepted is ever lost."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, utcnow

UNKNOWN_TARGET = "unknown"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_ordered_by", "ordered_by", "id"),)

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
    # A worker holds a message until then, renewing it while it works; if it dies mid-call,
    # another takes it soon after. Only the holder of `lease_token` may finish the message.
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_token: Mapped[str | None] = mapped_column(String(32))
    leased_by: Mapped[str | None] = mapped_column(String(120))  # host:pid, for operators
    # Set when an attempt starts (it is counted then), cleared when it ends: still set after the
    # lease ran out means a crash cut the attempt short, so it may have gone out.
    attempt_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The W3C trace context of the request that wrote it, so its delivery joins that trace.
    trace_context: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # The sequence it belongs to ("chat_turn:12"), if any: taken only once no earlier message of
    # that sequence is pending, so one conversation's turns and replies keep their order.
    ordered_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Set by the worker that takes the message (not stored): an earlier attempt was cut short by
    # a crash and may have reached the backend. Handlers that cannot pass an idempotency key
    # (SMS, WhatsApp) ask the backend before sending again.
    in_doubt = False
