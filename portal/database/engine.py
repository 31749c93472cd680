"""Engine and sessions. SQLite is the embedded default; PostgreSQL in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.datastructures import State
from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session

# Stable constraint names, so that migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, with its time zone: the default of every timestamp column."""
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored time with its zone: SQLite gives back naive UTC times, PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base class of every model; each feature folder declares its own."""

    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets several portal workers read while one writes; wait instead of failing on a lock.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, connections: int = 20) -> AsyncEngine:
    """An async engine for `url`, with up to `connections` PostgreSQL connections, each kept
    open once opened; for SQLite, the file's folder is created first.

    All are kept: with half kept (and half opened for a burst and closed after it), a worker
    busier than that opened a connection and forked a PostgreSQL backend every few requests,
    and each new connection ran its statements unprepared again. The most a process opens is
    unchanged; what changes is that an idle one keeps them."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=connections, max_overflow=0, pool_pre_ping=True)


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, each statement on its own: no BEGIN and ROLLBACK round trips around it.
    For single statements and for pages that only read (each read then sees the latest committed
    data, as under PostgreSQL's default READ COMMITTED anyway), where those two round trips were
    a third of a question page's time."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


class ReadOnlyWrite(RuntimeError):
    """A page marked read-only tried to write: give its route a transaction instead."""


class ReadOnlySession(Session):
    """A session for read-only pages: it has no transaction, so ORM writes (a flush, or an
    insert, update or delete statement) are refused rather than half done. Raw SQL is not
    checked: such a page has no business sending any."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, *_args: Any) -> None:
    raise ReadOnlyWrite("flush in a read-only session")


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlyWrite("write in a read-only session")


def read_only_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for pages that only read: no transaction, and no writing."""
    return async_sessionmaker(
        autocommit(engine), expire_on_commit=False, sync_session_class=ReadOnlySession
    )


READ_ONLY = {"read_only": True}
"""Route `opt` of a page that only reads: its `db` session runs without a transaction."""


async def provide_session(
    request: Request[Any, Any, Any], state: State
) -> AsyncIterator[AsyncSession]:
    """A session per request (Litestar dependency `db`); committed by the handler that writes.
    Routes whose `opt` is READ_ONLY get a session that reads without a transaction."""
    if request.route_handler.opt.get("read_only"):
        factory: async_sessionmaker[AsyncSession] = state.reader
    else:
        factory = state.sessionmaker
    async with factory() as session:
        yield session
