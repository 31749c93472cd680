"""Rate-limit counters in the front door's own database, when Redis is not configured.

One row per key: one INSERT ... ON CONFLICT DO UPDATE ... RETURNING counts a use and reads the
count in a single atomic statement (PostgreSQL locks the row; SQLite the file), restarting the
count when the row's window is over. Rows of ended windows are swept now and then.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, case, delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, autocommit

SWEEP_ONE_USE_IN = 200
KEY_LENGTH = 200


class LimitCounter(Base):
    __tablename__ = "limit_counters"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def _stored(key: str) -> str:
    """Keys longer than the column are kept by their digest."""
    if len(key) <= KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseCounters:
    """Each statement runs on its own (autocommit): nothing here needs two to agree."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = autocommit(engine)
        self._insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert

    async def add(self, key: str, window_seconds: int) -> int:
        now = datetime.now(UTC)
        ends_at = now + timedelta(seconds=window_seconds)
        over = LimitCounter.ends_at <= now
        statement = (
            self._insert(LimitCounter)
            .values(key=_stored(key), uses=1, ends_at=ends_at)
            .on_conflict_do_update(
                index_elements=[LimitCounter.key],
                set_={
                    "uses": case((over, 1), else_=LimitCounter.uses + 1),
                    "ends_at": case((over, ends_at), else_=LimitCounter.ends_at),
                },
            )
            .returning(LimitCounter.uses)
        )
        async with self.engine.connect() as connection:
            uses = int((await connection.execute(statement)).scalar_one())
            if random.randrange(SWEEP_ONE_USE_IN) == 0:
                await connection.execute(delete(LimitCounter).where(LimitCounter.ends_at <= now))
        return uses

    async def take_back(self, key: str) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(
                update(LimitCounter)
                .where(
                    LimitCounter.key == _stored(key),
                    LimitCounter.ends_at > datetime.now(UTC),
                    LimitCounter.uses > 0,
                )
                .values(uses=LimitCounter.uses - 1)
            )

    async def aclose(self) -> None:
        """The engine is the app's: it disposes of it."""


__all__ = ["DatabaseCounters", "LimitCounter"]
