"""A Litestar key-value store in the front door's own database (server-side sessions).

Used unless Redis is configured, so that several portal replicas share sessions with nothing
more than the database they already share. Expired rows are treated as absent and swept now
and then on write.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from litestar.stores.base import Store
from sqlalchemy import DateTime, Executable, LargeBinary, String, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from portal.database.engine import Base, autocommit

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
    """Every statement runs on its own, without BEGIN and ROLLBACK round trips: a session is read
    on every signed-in page, and no operation here needs two statements to agree."""

    def __init__(self, engine: AsyncEngine, namespace: str = "sessions") -> None:
        self.engine = autocommit(engine)
        self.namespace = namespace
        self._insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def _run(self, statement: Executable) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(statement)

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
        await self._run(
            statement.on_conflict_do_update(
                index_elements=[StoredValue.key], set_={"value": data, "expires_at": expires_at}
            )
        )
        if random.randrange(SWEEP_ONE_WRITE_IN) == 0:
            await self._run(delete(StoredValue).where(StoredValue.expires_at < now))

    async def _live(self, key: str) -> tuple[bytes, datetime | None] | None:
        """The value and its expiry; an expired value is deleted and counts as absent."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(StoredValue.value, StoredValue.expires_at).where(
                        StoredValue.key == self._key(key)
                    )
                )
            ).first()
            if row is None:
                return None
            value, expires_at = row
            expires_at = _aware(expires_at) if expires_at is not None else None
            now = datetime.now(UTC)
            if expires_at is not None and expires_at <= now:
                # Only if still expired: the same key may have just been written again.
                await connection.execute(
                    delete(StoredValue).where(
                        StoredValue.key == self._key(key), StoredValue.expires_at <= now
                    )
                )
                return None
            return value, expires_at

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        live = await self._live(key)
        if live is None:
            return None
        value, expires_at = live
        seconds = _seconds(renew_for)
        if seconds is not None and expires_at is not None:
            renewed = datetime.now(UTC) + timedelta(seconds=seconds)
            # A write per page view would serialize every signed-in request (SQLite locks the
            # file): renew only once the expiry has fallen behind by a tenth of the idle time,
            # at most a minute.
            slack = timedelta(seconds=min(60, seconds / 10))
            if expires_at < renewed - slack:
                await self._run(
                    update(StoredValue)
                    .where(StoredValue.key == self._key(key))
                    .values(expires_at=renewed)
                )
        return value

    async def delete(self, key: str) -> None:
        await self._run(delete(StoredValue).where(StoredValue.key == self._key(key)))

    async def delete_all(self) -> None:
        await self._run(delete(StoredValue).where(StoredValue.key.startswith(f"{self.namespace}:")))

    async def exists(self, key: str) -> bool:
        return await self._live(key) is not None

    async def expires_in(self, key: str) -> int | None:
        live = await self._live(key)
        if live is None or live[1] is None:
            return None
        return int((live[1] - datetime.now(UTC)).total_seconds())


__all__ = ["DatabaseStore", "StoredValue"]
