"""Services kept in the database (issue 18): seeding from the repository, four-eyes publishing,
translations before going live, export and import, a publish live on every worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from conftest import migrate, run_async
from portal.catalogue.loader import Catalogue
from portal.database import make_engine
from portal.design import store
from portal.design.seed import seed
from portal.design.translations import untranslated
from portal.translations.messages import message_key
from portal.translations.models import Publication, TranslationEdit
from tests.conftest import PortalFactory
from tests.design_support import (
    DEFINITIONS,
    PERMIT,
    catalogue_in,
    changed,
    design_catalogue,
    with_db,
)

A, B = "staff:designer-a", "staff:designer-b"
KINDS = ["sqlite", "postgresql"]


@pytest.fixture(params=KINDS)
def database(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    url = fresh_database(request.param)
    migrate(url)
    return url


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    return design_catalogue(tmp_path / "catalogue")


def seed_twice_at_once(url: str, directory: Path) -> None:
    """Two workers starting together, each with its own connections."""

    async def run() -> None:
        engines = [make_engine(url) for _ in range(2)]
        try:
            await asyncio.gather(
                *(
                    seed(async_sessionmaker(engine, expire_on_commit=False), directory)
                    for engine in engines
                )
            )
        finally:
            for engine in engines:
                await engine.dispose()

    run_async(run())


def publish_new(
    url: str, catalogue: Catalogue, source: str, fallback: tuple[str, ...] = ("es", "ar")
) -> int:
    """Designer A writes a new version, B publishes it; its number."""

    async def work(db: AsyncSession) -> int:
        draft = await store.new_draft(db, "design-permit", A)
        assert not (await store.save(db, draft, source, A, catalogue)).problems
        await store.set_fallback(db, draft, list(fallback), A)
        assert not (await store.submit_for_review(db, draft, A, catalogue)).problems
        assert await store.publish(db, draft, B, catalogue) == []
        return draft.number

    return with_db(url, work)


def numbers(url: str) -> list[tuple[int, str, str]]:
    async def work(db: AsyncSession) -> list[tuple[int, str, str]]:
        return [(v.number, v.state, v.origin) for v in await store.versions(db, "design-permit")]

    return with_db(url, work)


def test_seeding_is_the_same_with_two_workers_starting_at_once(
    portal_factory: PortalFactory, database: str, catalogue_dir: Path
) -> None:
    portal_factory(database_url=database, catalogue_dir=catalogue_dir)  # configures languages
    catalogue = catalogue_in(catalogue_dir)
    seed_twice_at_once(database, catalogue_dir)
    seed_twice_at_once(database, catalogue_dir)
    assert numbers(database) == [(1, "published", "repository")]

    # The file changed and no designer published since: the file is the next version.
    path = catalogue_dir / "services" / "design-permit.yaml"
    path.write_text(changed(PERMIT, "It is free.", "It costs nothing."), encoding="utf-8")
    seed_twice_at_once(database, catalogue_dir)
    assert numbers(database)[0] == (2, "published", "repository")

    # A designer published since: the repository's next change stays out, with a warning.
    mine = changed(PERMIT, "It is free.", "Free for everyone.")
    assert publish_new(database, catalogue, mine) == 3
    path.write_text(changed(PERMIT, "It is free.", "Free of charge."), encoding="utf-8")
    with capture_logs() as logs:
        seed_twice_at_once(database, catalogue_dir)
    assert [n for n, *_ in numbers(database)] == [3, 2, 1]
    assert any(log["event"] == "service_file_changed_after_designer" for log in logs)


def test_a_publish_is_served_by_another_worker_within_two_seconds(
    portal_factory: PortalFactory, database: str, catalogue_dir: Path
) -> None:
    first = portal_factory(database_url=database, catalogue_dir=catalogue_dir)
    second = portal_factory(database_url=database, catalogue_dir=catalogue_dir)
    assert "Apply for a design test permit" in second.get("/services/design-permit").text
    source = changed(PERMIT, "Apply for a design test permit", "Apply for a renamed permit")
    publish_new(database, catalogue_in(catalogue_dir), source)
    published = time.monotonic()
    while "Apply for a renamed permit" not in second.get("/services/design-permit").text:
        assert time.monotonic() - published < 2.0, "the second worker still serves version 1"
        time.sleep(0.1)
    assert "Apply for a renamed permit" in first.get("/services").text
    found = second.get("/services", params={"q": "renamed permit"}).text
    assert "/services/design-permit" in found


def test_a_designer_cannot_publish_their_own_version_and_the_attempt_is_audited(
    portal_factory: PortalFactory, database: str, catalogue_dir: Path
) -> None:
    portal_factory(database_url=database, catalogue_dir=catalogue_dir)
    catalogue = catalogue_in(catalogue_dir)

    async def work(db: AsyncSession) -> tuple[list[str], list[str], str]:
        draft = await store.new_draft(db, "design-permit", A)
        await store.set_fallback(db, draft, ["es", "ar"], A)
        assert not (await store.submit_for_review(db, draft, A, catalogue)).problems
        refused = await store.publish(db, draft, A, catalogue)
        actions = [event.action for event in await store.history(db, "design-permit")]
        return refused, actions, draft.state

    refused, actions, state = with_db(database, work)
    assert refused and "Another designer" in refused[0]
    assert "service_publish_refused" in actions
    assert state == "in_review"


def test_an_invalid_definition_is_saved_but_never_submitted_or_published(
    portal_factory: PortalFactory, database: str, catalogue_dir: Path
) -> None:
    portal_factory(database_url=database, catalogue_dir=catalogue_dir)
    catalogue = catalogue_in(catalogue_dir)
    broken = changed(PERMIT, "department: environment", "department: nowhere")

    async def work(db: AsyncSession) -> tuple[Any, Any, str, str]:
        draft = await store.new_draft(db, "design-permit", A)
        saved = await store.save(db, draft, broken, A, catalogue)
        submitted = await store.submit_for_review(db, draft, A, catalogue)
        return saved, submitted, draft.state, draft.source

    saved, submitted, state, source = with_db(database, work)
    assert saved.problems and submitted.problems
    assert any("nowhere" in store.problem_text(problem) for problem in saved.problems)
    assert (state, source) == ("draft", broken)


def test_publishing_waits_for_translations_unless_english_is_accepted(
    portal_factory: PortalFactory, database: str, catalogue_dir: Path
) -> None:
    client = portal_factory(database_url=database, catalogue_dir=catalogue_dir)
    catalogue = catalogue_in(catalogue_dir)
    source = changed(PERMIT, "It is free.", "It is free for residents.")

    async def refused_then_published(db: AsyncSession) -> tuple[list[str], list[str]]:
        draft = await store.new_draft(db, "design-permit", A)
        await store.save(db, draft, source, A, catalogue)
        await store.submit_for_review(db, draft, A, catalogue)
        refused = await store.publish(db, draft, B, catalogue)
        await store.set_fallback(db, draft, ["es", "ar"], A)  # it stays in review
        return refused, await store.publish(db, draft, B, catalogue)

    refused, published = with_db(database, refused_then_published)
    assert len(refused) == 2, refused
    assert "español" in refused[0].casefold() and "العربية" in refused[1]
    assert published == []
    time.sleep(1.1)  # the next check of the catalogue
    spanish = client.get("/services/design-permit", headers={"Accept-Language": "es"}).text
    assert "It is free for residents." in spanish
    assert "data-fd-english-fallback" in spanish and "Español" in spanish
    english = client.get("/services/design-permit", headers={"Accept-Language": "en"}).text
    assert "data-fd-english-fallback" not in english
    # Editors find the version's texts by its place.
    places = [
        place
        for message in client.app.state.messages.items
        if message.msgid == "It is free for residents."
        for place in message.locations
    ]
    assert places and places[0].startswith("service design-permit, version 2")


@pytest.mark.parametrize("kind", KINDS)
def test_every_repository_service_is_exported_as_it_was_imported(
    portal_factory: PortalFactory, fresh_database: Callable[[str], str], kind: str
) -> None:
    url = fresh_database(kind)
    migrate(url)
    portal_factory()
    sources = {
        path.stem: path.read_text(encoding="utf-8")
        for path in (DEFINITIONS / "services").glob("*.yaml")
    }
    assert sources
    seed_twice_at_once(url, DEFINITIONS)  # each one's version 1, from the repository

    async def imported(db: AsyncSession) -> set[tuple[int, str, str]]:
        made = set()
        for service_id, source in sources.items():
            first = await store.import_yaml(db, source, A)  # the next draft of a known service
            again = await store.import_yaml(db, source, A)  # the open draft takes it again
            assert again.number == first.number
            copy = await store.import_yaml(db, store.with_id(source, f"{service_id}-copy"), A)
            made |= {(first.number, first.state, first.origin), (copy.number, copy.origin, "")}
        return made

    assert with_db(url, imported) == {(2, "draft", "import"), (1, "import", "")}

    async def exported(db: AsyncSession) -> dict[str, list[str]]:
        return {
            service_id: [store.export_yaml(v) for v in await store.versions(db, service_id)]
            for service_id in [*sources, *(f"{service_id}-copy" for service_id in sources)]
        }

    every = with_db(url, exported)
    for service_id, source in sources.items():
        assert every[service_id] == [source, source], service_id
        assert every[f"{service_id}-copy"] == [store.with_id(source, f"{service_id}-copy")]
        assert every[f"{service_id}-copy"][0].replace(f"{service_id}-copy", service_id, 1) == source


def test_clone_restore_and_the_designers_overview(
    portal_factory: PortalFactory, database: str, catalogue_dir: Path
) -> None:
    portal_factory(database_url=database, catalogue_dir=catalogue_dir)
    catalogue = catalogue_in(catalogue_dir)
    second = changed(PERMIT, "It is free.", "It costs 5 euros.")
    assert publish_new(database, catalogue, second) == 2

    async def work(db: AsyncSession) -> dict[str, Any]:
        copy = await store.clone(db, "design-permit", "design-copy", A)
        with pytest.raises(store.DesignError):
            await store.clone(db, "design-permit", "design-copy", A)  # the id is taken
        restored = await store.restore(db, "design-permit", 1, A)
        await store.set_fallback(db, restored, ["es", "ar"], A)
        await store.submit_for_review(db, restored, A, catalogue)
        published = await store.publish(db, restored, B, catalogue)
        rows = {row.id: row for row in await store.overview(db)}
        return {
            "copy": (copy.service_id, copy.number, copy.state, copy.based_on),
            "copy_source": copy.source,
            "restored": (restored.number, restored.source, restored.based_on, published),
            "rows": rows,
        }

    found = with_db(database, work)
    assert found["copy"] == ("design-copy", 1, "draft", "design-permit v2")
    assert found["copy_source"] == second.replace("id: design-permit", "id: design-copy", 1)
    assert found["restored"] == (3, PERMIT, "design-permit v1", [])
    permit, copy = found["rows"]["design-permit"], found["rows"]["design-copy"]
    assert (permit.state, permit.live_version, permit.newest_version) == ("live", 3, 3)
    assert (copy.state, copy.live_version, copy.newest_state) == ("draft", None, "draft")


def test_texts_translated_by_editors_let_a_version_be_published(
    portal_factory: PortalFactory, database: str, catalogue_dir: Path
) -> None:
    portal_factory(database_url=database, catalogue_dir=catalogue_dir)
    catalogue = catalogue_in(catalogue_dir)
    source = changed(PERMIT, "It is free.", "It is free on Sundays.")

    async def work(db: AsyncSession) -> tuple[list[str], list[str]]:
        draft = await store.new_draft(db, "design-permit", A)
        await store.save(db, draft, source, A, catalogue)
        await store.submit_for_review(db, draft, A, catalogue)
        missing = await untranslated(db, source)
        for language, texts in missing.items():
            for text in texts:
                edit = TranslationEdit(
                    language=language,
                    key=message_key(text, None),
                    msgid=text,
                    forms=[f"[{language}] {text}"],
                    status="published",
                    author="staff:editor",
                )
                db.add(edit)
                await db.flush()
                db.add(
                    Publication(
                        edit_id=edit.id,
                        language=language,
                        key=edit.key,
                        published_by="staff:reviewer",
                    )
                )
        await db.commit()
        return [t for texts in missing.values() for t in texts], await store.publish(
            db, draft, B, catalogue
        )

    translated, published = with_db(database, work)
    assert "It is free on Sundays." in translated
    assert published == []


def test_two_designers_opening_the_next_version_at_once_share_it(
    portal_factory: PortalFactory, database: str, catalogue_dir: Path
) -> None:
    portal_factory(database_url=database, catalogue_dir=catalogue_dir)

    async def both() -> list[int]:
        engines = [make_engine(database) for _ in range(2)]
        try:

            async def open_next(engine: Any, who: str) -> int:
                async with async_sessionmaker(engine, expire_on_commit=False)() as db:
                    return (await store.new_draft(db, "design-permit", who)).number

            return list(await asyncio.gather(open_next(engines[0], A), open_next(engines[1], B)))
        finally:
            for engine in engines:
                await engine.dispose()

    assert run_async(both()) == [2, 2]
    assert [n for n, *_ in numbers(database)] == [2, 1]
