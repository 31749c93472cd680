"""A citizen known to the front door, by their identity provider's subject."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, validates

from portal.database.engine import Base
from portal.database.ids import new_public_id
from portal.i18n.folding import fold


def _now() -> datetime:
    return datetime.now(UTC)


# The issuer of designers' preview accounts (portal.design.preview): never a person, never sent.
PREVIEW_ISSUER = "preview"


class Citizen(Base):
    __tablename__ = "citizens"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        # The agents' search (portal.assisted.service); on PostgreSQL also a trigram index on
        # name_folded (migration 0022), which SQLAlchemy does not describe here.
        Index("ix_citizens_email_lower", text("lower(email)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # How staff pages name the citizen in URLs and the audit log (never the row number).
    public_id: Mapped[str] = mapped_column(
        String(40), unique=True, default=lambda: new_public_id("c")
    )
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    # The name as agents search it (case and accents ignored), kept by the model with every
    # change of the name; a row inserted without the model must fold it itself.
    name_folded: Mapped[str] = mapped_column(String(200), default="", server_default="")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # the bot looks it up
    language: Mapped[str] = mapped_column(String(8), default="en")
    address: Mapped[str | None] = mapped_column(String(500))
    preferred_channel: Mapped[str | None] = mapped_column(String(16))  # sms, whatsapp or email
    # "Tell us once": may we prefill other services with these details?
    reuse_consent: Mapped[bool] = mapped_column(default=False)
    deletion_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "Sign out everywhere": sessions that began before this moment are no longer valid.
    sessions_valid_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    @validates("name")
    def _fold_name(self, key: str, name: str) -> str:
        self.name_folded = fold(name)
        return name


class SignInCode(Base):
    """A one-time code sent by SMS or email. Only its HMAC is kept, never the code."""

    __tablename__ = "sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # "sms" or "email"
    destination: Mapped[str] = mapped_column(String(320), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
