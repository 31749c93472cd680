"""A service and its versions, each holding the definition's YAML exactly as written.

A version is a draft, then in review, then published (four eyes). The catalogue serves, for each
service not retired, the version published last; drafts and applications keep the version they
started with, so every version ever published stays readable here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, utcnow

VERSION_STATES = ("draft", "in_review", "published", "withdrawn")
ORIGINS = ("repository", "designer", "import")


class DesignedService(Base):
    """One service of the catalogue, whatever its versions say."""

    __tablename__ = "designed_services"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the definition's id
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_by: Mapped[str | None] = mapped_column(String(120))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ServiceVersion(Base):
    """Version `number` (1, 2, 3 per service) of a service's definition."""

    __tablename__ = "service_versions"
    __table_args__ = (UniqueConstraint("service_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("designed_services.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)  # the YAML as written: exported byte for byte
    title: Mapped[str] = mapped_column(String(2000), default="")  # read from the source
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    origin: Mapped[str] = mapped_column(String(16), default="designer")
    # The version this one was copied from (a new draft, a clone or a restore), if any.
    based_on: Mapped[str | None] = mapped_column(String(80))
    # Languages the designer accepted to show in English until they are translated.
    fallback_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(120))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(120))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
