"""Signed webhook pushes as the sandbox's backends send them: in the background, one try, then
three more 1, 2 and 4 seconds apart, each delivery's fate kept for testers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_DELAYS = (1.0, 2.0, 4.0)
PUSH_TIMEOUT = httpx.Timeout(3.0, connect=1.0)  # under a tester's 5 s: /advance awaits one try


@dataclass
class Delivery:
    """One signed webhook push and what became of it (shown to testers)."""

    url: str | None
    body: str
    headers: dict[str, str]
    record: dict[str, Any]


@dataclass
class Pushes:
    """What a backend that pushes webhooks shares: its background tasks and their retries."""

    tasks: set[asyncio.Task[None]] = field(default_factory=set, kw_only=True)

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run work after the answer; keep a reference so the task is not collected early."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def attempt(self, delivery: Delivery) -> bool:
        if delivery.url is None:
            return False
        delivery.record["attempts"] += 1
        try:
            async with httpx.AsyncClient(timeout=PUSH_TIMEOUT) as client:
                response = await client.post(
                    delivery.url, content=delivery.body.encode(), headers=delivery.headers
                )
        except httpx.HTTPError as failure:
            delivery.record["last_error"] = type(failure).__name__
            return False
        delivery.record["last_status"] = response.status_code
        delivery.record["delivered"] = response.is_success
        return response.is_success

    async def retry(self, delivery: Delivery) -> None:
        """After a failed first try: three more, 1, 2 and 4 seconds apart, then give up."""
        for delay in RETRY_DELAYS:
            await asyncio.sleep(delay)
            if await self.attempt(delivery):
                return
        delivery.record["gave_up"] = True

    async def push(self, delivery: Delivery) -> None:
        if not await self.attempt(delivery) and delivery.url is not None:
            await self.retry(delivery)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
