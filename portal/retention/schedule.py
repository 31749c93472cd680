"""When the worker purges: at most once per FRONTDOOR_RETENTION_PERIOD_SECONDS, from its periodic
round; a purge that fails is logged and tried again next period, never stopping the worker."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import structlog

from portal.retention.purge import Sessionmaker, purge
from portal.settings import Settings

log = structlog.get_logger()


class Retention:
    def __init__(self, sessionmaker: Sessionmaker, settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.last: float | None = None  # monotonic time of the last attempt

    async def run_when_due(self) -> dict[str, int] | None:
        """Purge if the period has passed since the last attempt (the first comes at the
        worker's first periodic round); the counts, or None when not due or it failed."""
        started = time.monotonic()
        if self.last is not None and started - self.last < self.settings.retention_period_seconds:
            return None
        self.last = started
        try:
            return await purge(self.sessionmaker, self.settings, datetime.now(UTC))
        except Exception:
            log.exception("retention_failed")
            return None
