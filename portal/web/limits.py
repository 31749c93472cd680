"""Counting uses per minute in the shared store (Redis or the database), so that every worker
counts together: look-ups of references and messages to the bot cannot be hammered."""

from __future__ import annotations

import time

from litestar.stores.base import Store


async def within_limit(store: Store, key: str, per_minute: int) -> bool:
    """Count one use of `key` in the current minute; False (and not counted) past `per_minute`."""
    slot = f"limit:{key}:{int(time.time() // 60)}"
    used = int(await store.get(slot) or 0)
    if used >= per_minute:
        return False
    await store.set(slot, str(used + 1), expires_in=120)
    return True
