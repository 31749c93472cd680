"""A Litestar key-value store in the front door's own database (server-side sessions).

Used unless Redis is configured, so that several portal replicas share sessions with nothing
more than the database they already share. Expired rows are treated as absent and swept now
and then on write.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from litestar.stores.base import Store
from sqlalchemy import DateTime, LargeBinary, String, delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base

SWEEP_ONE_WRITE_IN = 100


class StoredValue(Base):
    __tablename__ = "store_values"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


def _seconds(value: int | timedelta | None) -> int | None:
    return int(value.total_seconds()) if isinstance(value, timedelta) else value


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


class DatabaseStore(Store):
    def __init__(self, engine: AsyncEngine, namespace: str = "sessions") -> None:
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self.namespace = namespace
        self._insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in)
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=seconds) if seconds is not None else None
        statement = self._insert(StoredValue).values(
            key=self._key(key), value=data, expires_at=expires_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=[StoredValue.key], set_={"value": data, "expires_at": expires_at}
        )
        async with self.sessionmaker() as db:
            await db.execute(statement)
            if random.randrange(SWEEP_ONE_WRITE_IN) == 0:
                await db.execute(delete(StoredValue).where(StoredValue.expires_at < now))
            await db.commit()

    async def _live(self, db: AsyncSession, key: str) -> StoredValue | None:
        row = await db.get(StoredValue, self._key(key))
        if (
            row is not None
            and row.expires_at is not None
            and _aware(row.expires_at) <= datetime.now(UTC)
        ):
            await db.delete(row)
            await db.commit()
            return None
        return row

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self.sessionmaker() as db:
            row = await self._live(db, key)
            if row is None:
                return None
            seconds = _seconds(renew_for)
            if seconds is not None and row.expires_at is not None:
                renewed = datetime.now(UTC) + timedelta(seconds=seconds)
                # A write per page view would serialize every signed-in request (SQLite locks
                # the file): renew only once the expiry has fallen behind by a tenth of the idle
                # time, at most a minute.
                slack = timedelta(seconds=min(60, seconds / 10))
                if _aware(row.expires_at) < renewed - slack:
                    await db.execute(
                        update(StoredValue)
                        .where(StoredValue.key == row.key)
                        .values(expires_at=renewed)
                    )
                    await db.commit()
            return row.value

    async def delete(self, key: str) -> None:
        async with self.sessionmaker() as db:
            await db.execute(delete(StoredValue).where(StoredValue.key == self._key(key)))
            await db.commit()

    async def delete_all(self) -> None:
        async with self.sessionmaker() as db:
            await db.execute(
                delete(StoredValue).where(StoredValue.key.startswith(f"{self.namespace}:"))
            )
            await db.commit()

    async def exists(self, key: str) -> bool:
        async with self.sessionmaker() as db:
            return await self._live(db, key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self.sessionmaker() as db:
            row = await self._live(db, key)
            if row is None or row.expires_at is None:
                return None
            return int((_aware(row.expires_at) - datetime.now(UTC)).total_seconds())


__all__ = ["DatabaseStore", "StoredValue"]
