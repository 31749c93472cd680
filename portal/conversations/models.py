"""A conversation is one citizen on one channel (a phone number on SMS or WhatsApp, a browser on
the web chat); its messages are kept here, not in Rasa, because the conversation is what an
agent takes over and what links a citizen's channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "address"),
        Index("ix_conversations_citizen_id", "citizen_id"),
        # The inbox's open work: a few rows among a city's conversations (migration 0022).
        Index(
            "ix_conversations_with_people",
            "handoff_at",
            "id",
            postgresql_where=text("status IN ('waiting', 'agent')"),
            sqlite_where=text("status IN ('waiting', 'agent')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The bot knows the conversation by this random key only (Rasa's sender id).
    key: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms, whatsapp or web
    address: Mapped[str] = mapped_column(String(64))  # E.164 number, or the web chat's id
    # On the web chat, the citizen signed in (it decides what they may be told); by SMS or
    # WhatsApp, the profile that lists the number, which nobody checked: its language only.
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    language: Mapped[str] = mapped_column(String(8))
    # True once the language came from the profile or the citizen's own choice: never guessed.
    language_fixed: Mapped[bool] = mapped_column(default=False)
    # What the next message answers, when the gateway asked ("language": the 1-2-3 menu).
    expecting: Mapped[str | None] = mapped_column(String(32))
    # References whose news this conversation may have: proved with a code sent to their phone.
    granted: Mapped[list[str]] = mapped_column(JSON, default=list)
    # bot: the assistant answers; waiting: handed to a person, in the agents' queue;
    # agent: an agent holds it (the bot stays paused until they hand it back).
    status: Mapped[str] = mapped_column(String(16), default="bot")
    handoff_reason: Mapped[str | None] = mapped_column(String(32))
    handoff_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def code_asker(self) -> str:
        """Who asks for one-time codes, as the codes' limits count askers (on the web, by
        network address; here, by conversation)."""
        return f"bot:{self.key}"


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(8))  # "in" from the citizen, "out" to them
    author: Mapped[str] = mapped_column(String(64))  # citizen, bot, or staff:<subject>
    body: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[str]] = mapped_column(JSON, default=list)
    location: Mapped[dict[str, float] | None] = mapped_column(JSON)
    # Twilio's MessageSid: a message Twilio delivers twice is stored once.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A citizen's message: when the replies to it were written (in their transaction), so a
    # turn taken up again after a crash does not answer it twice.
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Handoff(Base):
    """One time the conversation went to a person: when it was asked for, claimed and ended,
    which gives the waiting and handling times the inbox shows."""

    __tablename__ = "handoffs"
    __table_args__ = (  # the open hand-offs, few among all there were (migration 0022)
        Index(
            "ix_handoffs_open",
            "conversation_id",
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # asked, not_understood
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    agent: Mapped[str | None] = mapped_column(String(120))  # staff:<subject> who claimed it
    agent_name: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(16))  # agent or citizen
