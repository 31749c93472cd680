"""Messages readers were shown in English because their language has no translation yet.

portal.i18n.catalogue counts each fallback as it serves it; every worker adds its counts to the
database now and then (FRONTDOOR_MISSING_TRANSLATIONS_SAVE_SECONDS), in one statement, so that
editors see which missing texts readers meet most, across workers.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.i18n.catalogue import take_missing
from portal.translations.messages import message_key
from portal.translations.models import MissingTranslation

log = structlog.get_logger()


class MissingCounts:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], known: set[str], every: float
    ) -> None:
        self.sessionmaker = sessionmaker
        self.known = known  # the catalogue's message keys: a text outside it is not counted
        self.every = every
        self.saved = time.monotonic()

    async def save(self) -> None:
        """Add what this worker counted since it last saved, when it is time to."""
        now = time.monotonic()
        if now - self.saved < self.every:
            return
        self.saved = now
        counts: Counter[tuple[str, str]] = Counter()
        for (language, catalogue_key), times in take_missing().items():
            context, _, msgid = catalogue_key.rpartition("\x04")
            key = message_key(msgid, context or None)
            if key in self.known:
                counts[(language, key)] += times
        if not counts:
            return
        seen = datetime.now(UTC)
        try:
            async with self.sessionmaker() as db:
                dialect = db.get_bind().dialect.name
                insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
                statement = insert(MissingTranslation).values(
                    [
                        {"language": language, "key": key, "count": times, "last_seen": seen}
                        for (language, key), times in counts.items()
                    ]
                )
                await db.execute(
                    statement.on_conflict_do_update(
                        index_elements=[MissingTranslation.language, MissingTranslation.key],
                        set_={
                            "count": MissingTranslation.count + statement.excluded.count,
                            "last_seen": statement.excluded.last_seen,
                        },
                    )
                )
                await db.commit()
        except Exception:  # the database is away: the counts are lost, the page is not
            log.warning("missing_translations_not_saved", exc_info=True)


async def missing_counts(db: AsyncSession, language: str) -> dict[str, int]:
    """Message key -> how often readers of `language` were shown it in English."""
    rows = await db.execute(
        select(MissingTranslation.key, MissingTranslation.count).where(
            MissingTranslation.language == language
        )
    )
    return {key: int(count) for key, count in rows.all()}
