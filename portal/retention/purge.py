"""One purge: each kind of thing kept for a while deleted once it is past its period.

Run by the worker at most every FRONTDOOR_RETENTION_PERIOD_SECONDS (portal/retention/schedule.py).
Every delete states its whole condition, so running it twice, or in two workers at once, deletes
nothing twice and nothing early; on PostgreSQL an advisory lock also lets one worker at a time
do it (the others skip that round).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import String, cast, delete, exists, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from portal.conversations.models import ChatMessage, Conversation, Handoff
from portal.database.engine import autocommit
from portal.database.store import StoredValue
from portal.identity.models import SignInCode
from portal.observability.metrics import retention_purged
from portal.outbox.models import OutboxMessage
from portal.retention.drafts import delete_drafts, warn_drafts
from portal.settings import Settings

log = structlog.get_logger()
# Any constant shared by every worker: "FDRT".
LOCK_KEY = 0x46445254
Sessionmaker = async_sessionmaker[AsyncSession]


async def delete_sign_in_codes(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Codes (only their hashes are kept) past their expiry by the retention period; used or
    not, they open nothing any more, and the limits are counted elsewhere."""
    cutoff = now - timedelta(hours=settings.sign_in_code_retention_hours)
    result = await db.execute(delete(SignInCode).where(SignInCode.expires_at < cutoff))
    await db.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_sessions(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Sessions in the database that ended (their idle time ran out): already absent to the
    portal, which sweeps them only now and then as it writes. In Redis they expire by
    themselves (each is written with its idle time as TTL): nothing to do."""
    if settings.redis_url:
        return 0
    result = await db.execute(delete(StoredValue).where(StoredValue.expires_at < now))
    await db.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def _sequence_of(kind: str) -> ColumnElement[str]:
    return literal(f"{kind}:") + cast(Conversation.id, String)


async def delete_web_chats(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Web chat conversations whose last message is older than the retention period, with
    their messages and hand-offs. Kept: one a person still deals with (waiting for or held by
    an agent, or a hand-off not ended), and one with a turn or reply still in the outbox. SMS
    and WhatsApp conversations are not purged here. Applications the assistant filed are
    independent rows, kept as any application."""
    last = (
        select(func.max(ChatMessage.created_at))
        .where(ChatMessage.conversation_id == Conversation.id)
        .scalar_subquery()
    )
    cutoff = now - timedelta(days=settings.web_chat_retention_days)
    unfinished = ("pending", "failed")
    ids = list(
        (
            await db.scalars(
                select(Conversation.id)
                .where(
                    Conversation.channel == "web",
                    Conversation.status == "bot",
                    func.coalesce(last, Conversation.created_at) <= cutoff,
                    ~exists().where(
                        Handoff.conversation_id == Conversation.id, Handoff.ended_at.is_(None)
                    ),
                    ~exists().where(
                        OutboxMessage.status.in_(unfinished),
                        or_(
                            OutboxMessage.ordered_by == _sequence_of("chat_turn"),
                            OutboxMessage.ordered_by == _sequence_of("chat_reply"),
                        ),
                    ),
                )
                .with_for_update(of=Conversation, skip_locked=True)
            )
        ).all()
    )
    if ids:
        await db.execute(delete(ChatMessage).where(ChatMessage.conversation_id.in_(ids)))
        await db.execute(delete(Handoff).where(Handoff.conversation_id.in_(ids)))
        await db.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    await db.commit()
    return len(ids)


def delete_bot_models(folder: Path, kept: int) -> int:
    """Trained models (scripts/bot.py's chatbot/models/*.tar.gz) beyond the `kept` newest. A
    folder this process cannot see (the bot runs elsewhere) holds nothing to do."""
    if not folder.is_dir():
        return 0
    models = sorted(folder.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in models[kept:]:
        old.unlink(missing_ok=True)
    return len(models[kept:])


@asynccontextmanager
async def only_one(engine: AsyncEngine) -> AsyncIterator[bool]:
    """Whether this process may purge now: on PostgreSQL, while it holds the advisory lock
    (another worker holding it: False); SQLite serves one machine, whose writes take turns."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with autocommit(engine).connect() as connection:
        held = bool(
            await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
        )
        try:
            yield held
        finally:
            if held:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})


async def purge(sessionmaker: Sessionmaker, settings: Settings, now: datetime) -> dict[str, int]:
    """Warn the owners of drafts nearing deletion, delete what is past its period; returns how
    many of each kind (empty when another worker is doing it)."""
    engine: AsyncEngine = sessionmaker.kw["bind"]
    async with only_one(engine) as mine:
        if not mine:
            log.info("retention_skipped", reason="another worker is purging")
            return {}
        counts: dict[str, int] = {}
        async with sessionmaker() as db:
            counts["drafts_warned"] = await warn_drafts(db, settings, now)
            counts["drafts"] = await delete_drafts(db, settings, now)
            counts["sign_in_codes"] = await delete_sign_in_codes(db, settings, now)
            counts["sessions"] = await delete_sessions(db, settings, now)
            counts["web_chats"] = await delete_web_chats(db, settings, now)
        counts["bot_models"] = await asyncio.to_thread(
            delete_bot_models, settings.bot_models_dir, settings.bot_models_kept
        )
    for kind, count in counts.items():
        if kind != "drafts_warned":
            retention_purged(kind, count)
    log.info("retention_purged", **counts)
    return counts
