"""The catalogue every process serves: departments, topics and links from the repository's
files, services from the database (portal.design), as designers publish them.

Each process (every portal worker, the outbox worker) asks the database for a small stamp of
the service versions at most every FRONTDOOR_CATALOGUE_CHECK_SECONDS and rebuilds its catalogue
only when the stamp changed, as the translations overlay does: a publish is live everywhere
within a second or two, without a restart.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import structlog
import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.catalogue import yaml_text
from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Service
from portal.design.models import DesignedService, ServiceVersion
from portal.design.store import aware

log = structlog.get_logger()

READABLE = ("draft", "in_review", "published", "withdrawn")


@lru_cache(maxsize=512)
def parse(source: str) -> Service | None:
    """A stored definition as a service; None when it does not read (a draft being written, or
    one the rules have since grown stricter for: logged, never served). Kept by its text: every
    app started in one process (each test starts one) reads the same versions (a Service is
    frozen)."""
    try:
        return Service.model_validate(yaml_text.load(source))
    except (yaml.YAMLError, ValidationError, ValueError):
        return None


async def stamp(db: AsyncSession) -> tuple[Any, ...]:
    """Changes whenever a version is added, saved, submitted or published, or a service is
    retired: how many and the newest of each."""
    versions = (
        await db.execute(
            select(
                func.count(ServiceVersion.id),
                func.max(ServiceVersion.id),
                func.max(ServiceVersion.updated_at),
            )
        )
    ).one()
    retired = (
        await db.execute(
            select(func.count(DesignedService.id), func.max(DesignedService.retired_at)).where(
                DesignedService.retired_at.is_not(None)
            )
        )
    ).one()
    return (*(str(value) for value in versions), *(str(value) for value in retired))


class LiveCatalogue:
    """This process's catalogue, rebuilt when the database's services change."""

    def __init__(
        self, base: Catalogue, sessionmaker: async_sessionmaker[AsyncSession], every: float
    ) -> None:
        self.base = base
        self.current = base
        self.sessionmaker = sessionmaker
        self.every = every
        self.checked = float("-inf")
        self.stamp: tuple[Any, ...] | None = None
        self.generation = 0  # bumped at every rebuild (messages for editors follow it)
        # Parsed versions by row id and time saved: a rebuild reads only what changed.
        self._parsed: dict[int, tuple[datetime, str, Service | None]] = {}
        # The YAML of the versions editors translate, by (service, number): the one served of
        # each service and those being written or reviewed (not older ones, replaced).
        self.sources: dict[tuple[str, int], str] = {}

    async def refresh(self, *, force: bool = False) -> Catalogue:
        now = time.monotonic()
        if not force and now - self.checked < self.every:
            return self.current
        self.checked = now
        try:
            async with self.sessionmaker() as db:
                current = await stamp(db)
                if current == self.stamp:
                    return self.current
                self.current = await self._build(db)
        except Exception:  # no database (yet): serve what we have, look again later
            log.warning("live_catalogue_check_failed", exc_info=True)
            return self.current
        self.stamp = current
        self.generation += 1
        return self.current

    def _source(self, service_id: str, number: int, rows: Any) -> str:
        row = next(row for row in rows if (row.service_id, row.number) == (service_id, number))
        return self._parsed[row.id][1]

    async def _build(self, db: AsyncSession) -> Catalogue:
        services = {row.id: row for row in await db.scalars(select(DesignedService))}
        rows = (
            await db.execute(
                select(
                    ServiceVersion.id,
                    ServiceVersion.service_id,
                    ServiceVersion.number,
                    ServiceVersion.state,
                    ServiceVersion.origin,
                    ServiceVersion.updated_at,
                    ServiceVersion.published_at,
                    ServiceVersion.fallback_languages,
                ).where(ServiceVersion.state.in_(READABLE))
            )
        ).all()
        stale = [row.id for row in rows if self._parsed.get(row.id, (None,))[0] != row.updated_at]
        if stale:
            for version_id, updated_at, source in await db.execute(
                select(ServiceVersion.id, ServiceVersion.updated_at, ServiceVersion.source).where(
                    ServiceVersion.id.in_(stale)
                )
            ):
                parsed = parse(source)
                if parsed is None:
                    log.info("service_version_unreadable", version=version_id)
                self._parsed[version_id] = (updated_at, source, parsed)
        versions: dict[tuple[str, int], Service] = {}
        sources: dict[tuple[str, int], str] = {}
        fallbacks: dict[tuple[str, int], tuple[str, ...]] = {}
        served: dict[str, tuple[Any, ...]] = {}
        designed: set[str] = set()
        for row in rows:
            _, source, parsed = self._parsed[row.id]
            key = (row.service_id, row.number)
            if row.state in ("draft", "in_review"):
                sources[key] = source
            fallbacks[key] = tuple(row.fallback_languages or ())
            if parsed is None or parsed.id != row.service_id:
                continue
            versions[key] = parsed
            if row.state == "published":
                if row.origin != "repository":
                    designed.add(row.service_id)
                order = (aware(row.published_at), row.number)
                if row.service_id not in served or order > served[row.service_id][0]:
                    served[row.service_id] = (order, row.number, parsed)
        retired = frozenset(
            service_id for service_id, row in services.items() if row.retired_at is not None
        )
        live: dict[str, Service] = {}
        numbers: dict[str, int] = {}
        for service_id in sorted(served):
            _, number, service = served[service_id]
            numbers[service_id] = number
            # A service only the repository ever published follows its file: gone from the
            # repository (or from the files this portal was started with), gone from the list.
            from_files = service_id in self.base.services
            if service_id not in retired and (from_files or service_id in designed):
                live[service_id] = service
                sources[(service_id, number)] = self._source(service_id, number, rows)
        self.sources = sources
        return replace(
            self.base,
            services=live,
            versions=versions,
            numbers=numbers,
            retired=retired,
            fallbacks=fallbacks,
        )
