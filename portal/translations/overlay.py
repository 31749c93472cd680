"""Keeps this process's catalogues up to date with what editors published.

Each worker asks the database for the catalogue's version (how many publications, and the
newest) at most every FRONTDOOR_CATALOGUE_CHECK_SECONDS, and only when it changed reads the
published texts and lays them over the compiled catalogues. A page pays for one small query a
second per worker.
"""

from __future__ import annotations

import time

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.i18n.catalogue import catalogue_key, generation, lay_over
from portal.translations.models import Publication, TranslationEdit

log = structlog.get_logger()


async def published_edits(
    db: AsyncSession, language: str | None = None
) -> dict[str, TranslationEdit]:
    """The edit served for each message (its newest publication), keyed by language and key
    ("es:<key>"), or by key alone when one language is asked for."""
    newest = select(func.max(Publication.id)).group_by(Publication.language, Publication.key)
    query = (
        select(TranslationEdit)
        .join(Publication, Publication.edit_id == TranslationEdit.id)
        .where(Publication.id.in_(newest.scalar_subquery()))
    )
    if language is not None:
        query = query.where(TranslationEdit.language == language)
    edits = (await db.scalars(query)).all()
    if language is not None:
        return {edit.key: edit for edit in edits}
    return {f"{edit.language}:{edit.key}": edit for edit in edits}


async def published(db: AsyncSession) -> dict[str, dict[str, list[str]]]:
    """language -> catalogue key -> the text of the newest publication of each message."""
    overrides: dict[str, dict[str, list[str]]] = {}
    for edit in (await published_edits(db)).values():
        key = catalogue_key(edit.msgid, edit.context)
        overrides.setdefault(edit.language, {})[key] = list(edit.forms)
    return overrides


class CatalogueOverlay:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], every: float) -> None:
        self.sessionmaker = sessionmaker
        self.every = every
        self.version: tuple[int, int] | None = None  # None: lay over at the first look
        self.generation = -1
        self.checked = float("-inf")

    async def refresh(self) -> None:
        now = time.monotonic()
        if now - self.checked < self.every:
            return
        self.checked = now
        try:
            async with self.sessionmaker() as db:
                # How many publications and the newest: ids may commit out of order, counts
                # only grow, so together they change whenever anything was published.
                count, newest = (
                    await db.execute(select(func.count(Publication.id), func.max(Publication.id)))
                ).one()
                version = (int(count), int(newest or 0))
                if version == self.version and generation() == self.generation:
                    return
                overrides = await published(db)
        except Exception:  # the database is away: keep serving what we have, try again later
            log.warning("catalogue_check_failed", exc_info=True)
            return
        lay_over(overrides)
        self.version, self.generation = version, generation()
