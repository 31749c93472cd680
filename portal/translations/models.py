"""Editors' versions of a message's translation, and which of them were published when.

An edit is a draft until a second editor publishes it (four eyes). Publishing appends a row to
`translation_publications`; the newest publication of a message is the text served, and the
newest publication id of all is the catalogue's version, which every worker watches.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, utcnow


class TranslationEdit(Base):
    __tablename__ = "translation_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(24), index=True)  # the message's id in URLs
    msgid: Mapped[str] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(String(255))
    forms: Mapped[list[str]] = mapped_column(JSON)  # one text, or one per plural form
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    author: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewer: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Publication(Base):
    __tablename__ = "translation_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    edit_id: Mapped[int] = mapped_column(ForeignKey("translation_edits.id"))
    language: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(24), index=True)
    published_by: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MissingTranslation(Base):
    """How often readers of a language were shown a message in English for want of a
    translation (portal.translations.missing)."""

    __tablename__ = "missing_translations"

    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
