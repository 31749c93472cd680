"""At start, the repository's service files join the database's services.

A service the database does not know becomes its version 1, published, from the repository.
A file changed since is published as the next version while the repository still has the last
word (no designer published since); once a designer has, the database's version stays and the
start logs a warning. Several workers start at once: on PostgreSQL they take turns (an advisory
lock); anywhere, the unique (service, number) makes a loser retry and find the work done.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.design.live import parse
from portal.design.models import DesignedService, ServiceVersion
from portal.design.store import aware

log = structlog.get_logger()
LOCK_KEY = 0x46443A5345454453  # "FD:SEEDS"
REPOSITORY = "repository"
ATTEMPTS = 5


def repository_sources(catalogue_dir: Path) -> dict[str, str]:
    """Service id -> its file's text, exactly as written."""
    return {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted((catalogue_dir / "services").glob("*.yaml"))
    }


async def seed(sessionmaker: async_sessionmaker[AsyncSession], catalogue_dir: Path) -> None:
    """Bring the repository's services into the database (safe to run from every worker)."""
    sources = repository_sources(catalogue_dir)
    for attempt in range(ATTEMPTS):
        try:
            async with sessionmaker() as db:
                if db.bind.dialect.name == "postgresql":
                    await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                await _seed(db, sources)
                await db.commit()
            return
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))  # another worker was seeding: look again


async def _seed(db: AsyncSession, sources: dict[str, str]) -> None:
    now = datetime.now(UTC)
    for service_id, source in sources.items():
        versions = list(
            await db.scalars(
                select(ServiceVersion)
                .where(ServiceVersion.service_id == service_id)
                .order_by(ServiceVersion.number)
            )
        )
        if not versions and await db.get(DesignedService, service_id) is None:
            db.add(DesignedService(id=service_id, created_by=REPOSITORY, created_at=now))
            await db.flush()
        published = sorted(
            (v for v in versions if v.state == "published"),
            key=lambda v: (aware(v.published_at), v.number),
        )
        newest = published[-1] if published else None
        if newest is not None and newest.origin != REPOSITORY:
            from_files = [v for v in published if v.origin == REPOSITORY]
            if from_files and from_files[-1].source != source:
                log.warning(
                    "service_file_changed_after_designer",
                    service=service_id,
                    served=newest.number,
                    hint="a designer published since: the database's version stays",
                )
            continue
        if newest is not None and newest.source == source:
            continue
        number = max((v.number for v in versions), default=0) + 1
        parsed = parse(source)
        db.add(
            ServiceVersion(
                service_id=service_id,
                number=number,
                source=source,
                title=parsed.title if parsed else "",
                state="published",
                origin=REPOSITORY,
                fallback_languages=[],
                author=REPOSITORY,
                created_at=now,
                updated_by=REPOSITORY,
                updated_at=now,
                published_by=REPOSITORY,
                published_at=now,
            )
        )
        await db.flush()
        log.info("service_seeded", service=service_id, version=number)
