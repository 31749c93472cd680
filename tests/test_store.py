"""The database key-value store behind sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import run_async
from portal.database import make_engine
from portal.database.store import DatabaseStore


def test_values_are_kept_renewed_expired_and_deleted(database_url: str) -> None:
    async def scenario() -> list[Any]:
        engine = make_engine(database_url)
        store = DatabaseStore(engine, namespace="test-store")
        await store.set("a", b"one", expires_in=60)
        await store.set("a", "two", expires_in=60)  # replaces
        await store.set("short", b"x", expires_in=1)
        seen = [await store.get("a"), await store.exists("short"), await store.expires_in("a")]
        await store.get("a", renew_for=3600)
        seen.append(await store.expires_in("a"))
        await asyncio.sleep(1.1)
        seen += [await store.get("short"), await store.exists("short")]
        await store.delete("a")
        seen.append(await store.get("a"))
        await engine.dispose()
        return seen

    value, short_exists, ttl, renewed, expired, expired_exists, deleted = run_async(scenario())
    assert value == b"two" and short_exists is True
    assert 55 <= ttl <= 60 and renewed > 3500
    assert expired is None and expired_exists is False
    assert deleted is None
