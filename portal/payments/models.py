"""Every attempt to pay a fee or a bill, and what the gateway said about it.

Two partial unique indexes make "pay once" a rule of the database, not only of the code: a fee
or bill (its `purpose`) has at most one attempt still in play and at most one that succeeded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, utcnow
from portal.database.ids import new_public_id

# Our states: the gateway's seven, and "creating" until the gateway has answered the create.
LIVE = ("creating", "created", "started", "submitted")
FINISHED = ("success", "failed", "cancelled", "expired")
_LIVE_SQL = "status IN ('creating', 'created', 'started', 'submitted')"
_SUCCESS_SQL = "status = 'success'"


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index(
            "uq_payments_live_purpose",
            "purpose",
            unique=True,
            postgresql_where=text(_LIVE_SQL),
            sqlite_where=text(_LIVE_SQL),
        ),
        Index(
            "uq_payments_paid_purpose",
            "purpose",
            unique=True,
            postgresql_where=text(_SUCCESS_SQL),
            sqlite_where=text(_SUCCESS_SQL),
        ),
        Index("ix_payments_created_at", "created_at"),  # a day's payments, to reconcile
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Ours, in URLs and as the gateway's idempotency key (one key per attempt).
    public_id: Mapped[str] = mapped_column(
        String(40), unique=True, default=lambda: new_public_id("pay")
    )
    # What is being paid: "fee:<department request id>" or "bill:<bill reference>".
    purpose: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # fee, bill
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    department_request_id: Mapped[int | None] = mapped_column(ForeignKey("department_requests.id"))
    department: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(40))  # the application's or the bill's
    description: Mapped[str] = mapped_column(String(255))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(8))
    gateway_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="creating", index=True)
    code: Mapped[str | None] = mapped_column(String(16))  # the gateway's P0010, P0020...
    next_url: Mapped[str | None] = mapped_column(Text)
    card_last_four: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
