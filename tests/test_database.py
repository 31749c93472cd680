"""The front door's database on SQLite and PostgreSQL: migrations and the feedback it stores."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from sqlalchemy import func, inspect, select, update

from conftest import downgrade, migrate, run_async
from portal.database import make_engine
from portal.database.engine import ReadOnlyWrite, read_only_sessions
from portal.feedback.models import PageFeedback
from tests.support import give_feedback


def _query(url: str, statement: Any) -> Any:
    async def run() -> Any:
        engine = make_engine(url)
        async with engine.connect() as connection:
            result = (await connection.execute(statement)).all()
        await engine.dispose()
        return result

    return run_async(run())


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = make_engine(url)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        await engine.dispose()
        return set(names)

    return run_async(run())


def _feedback_for(url: str, path: str) -> list[Any]:
    return list(
        _query(
            url, select(PageFeedback.useful, PageFeedback.language).where(PageFeedback.path == path)
        )
    )


def test_migrations_go_up_down_and_up_again(fresh_database: Any) -> None:
    for kind in ("sqlite", "postgresql"):
        url = fresh_database(kind)
        migrate(url)
        assert {"page_feedback", "alembic_version"} <= _tables(url)
        downgrade(url)
        assert "page_feedback" not in _tables(url)
        migrate(url)
        assert "page_feedback" in _tables(url)


def test_feedback_without_javascript_redirects_and_thanks(
    portal: TestClient[Any], database_url: str
) -> None:
    assert (
        "¿Le ha resultado útil esta página?"
        in portal.get("/privacy", headers={"accept-language": "es"}).text
    )
    response = give_feedback(portal, "/privacy", "no", language="es")
    assert response.status_code == 303
    assert response.headers["location"] == "/privacy#feedback"
    again = portal.get("/privacy", headers={"accept-language": "es"}).text
    assert "Gracias por sus comentarios." in again
    assert "¿Le ha resultado útil esta página?" not in again
    assert (
        "¿Le ha resultado útil esta página?"
        in portal.get("/cookies", headers={"accept-language": "es"}).text
    )
    assert _feedback_for(database_url, "/privacy")[-1] == (False, "es")


def test_feedback_with_htmx_swaps_in_only_the_thanks(
    portal: TestClient[Any], database_url: str
) -> None:
    before = len(_feedback_for(database_url, "/accessibility"))
    response = give_feedback(portal, "/accessibility", language="ar", htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="feedback"' in response.text
    assert "شكرًا لك على ملاحظاتك." in response.text
    assert len(_feedback_for(database_url, "/accessibility")) == before + 1


def test_tampered_feedback_is_refused_and_not_stored(
    portal: TestClient[Any], database_url: str
) -> None:
    count = _query(database_url, select(func.count()).select_from(PageFeedback))[0][0]
    response = give_feedback(portal, "/", "maybe")
    assert response.status_code == 400
    assert "Sorry, we could not understand that request" in response.text
    assert _query(database_url, select(func.count()).select_from(PageFeedback))[0][0] == count


def test_feedback_for_another_site_is_stored_against_the_home_page(portal: TestClient[Any]) -> None:
    response = give_feedback(portal, "/", path="https://evil.example/")
    assert response.headers["location"] == "/#feedback"


def test_a_read_only_page_cannot_write(database_url: str) -> None:
    """Pages marked READ_ONLY read without a transaction, so a write there is refused outright
    rather than half done."""

    async def run() -> list[str]:
        engine = make_engine(database_url)
        refused = []
        async with read_only_sessions(engine)() as db:
            assert await db.scalar(select(func.count()).select_from(PageFeedback)) is not None
            db.add(PageFeedback(path="/", useful=True, language="en"))
            try:
                await db.flush()
            except ReadOnlyWrite:
                refused.append("flush")
            await db.rollback()
            try:
                await db.execute(update(PageFeedback).values(useful=False))
            except ReadOnlyWrite:
                refused.append("update")
        await engine.dispose()
        return refused

    before = _query(database_url, select(func.count()).select_from(PageFeedback))[0][0]
    assert run_async(run()) == ["flush", "update"]
    assert _query(database_url, select(func.count()).select_from(PageFeedback))[0][0] == before
