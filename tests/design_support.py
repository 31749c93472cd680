"""The design tests' own catalogue and database, and the store called as the designers' area
calls it."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import run_async
from portal.catalogue.loader import Catalogue, load_catalogue
from portal.database import make_engine

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "portal" / "catalogue" / "definitions"
SERVICES = Path(__file__).resolve().parent / "design_services"
PERMIT = (SERVICES / "design-permit.yaml").read_text(encoding="utf-8")
T = TypeVar("T")


def design_catalogue(target: Path) -> Path:
    """The real departments, topics and links and the design tests' service only."""
    (target / "services").mkdir(parents=True, exist_ok=True)
    for name in ("departments.yaml", "topics.yaml", "links.yaml"):
        if (DEFINITIONS / name).exists():
            shutil.copy(DEFINITIONS / name, target / name)
    shutil.copy(SERVICES / "design-permit.yaml", target / "services" / "design-permit.yaml")
    return target


def catalogue_in(directory: Path) -> Catalogue:
    return load_catalogue(directory)


def with_db(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` with a session of its own on the database at `url`."""

    async def run() -> T:
        engine = make_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    result: Any = run_async(run())
    return result  # type: ignore[no-any-return]


def changed(source: str, old: str, new: str) -> str:
    assert old in source, old
    return source.replace(old, new, 1)
