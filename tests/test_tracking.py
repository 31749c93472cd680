"""Two departments' events about one request recorded at the same moment (a webhook and a poll,
or two webhooks on two workers): the status the citizen sees is the latest event's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from conftest import run_async
from portal.app import create_app
from portal.applications.models import Application, DepartmentRequest
from portal.applications.tracking import add_news
from portal.contracts.base import News
from portal.database import make_engine
from portal.settings import Settings
from tests.journey_support import sent_application
from tests.support import sign_in_as


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


async def _record_at_once(database_url: str, reference: str) -> str:
    """The later event ("fee due") is recorded and held uncommitted while the earlier one ("in
    review") is recorded beside it; then the first commits, then the second."""
    engine = make_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    now = datetime.now(UTC)

    async def request_in(db: Any) -> DepartmentRequest:
        found = await db.scalar(
            select(DepartmentRequest)
            .join(Application, Application.id == DepartmentRequest.application_id)
            .where(Application.reference == reference, DepartmentRequest.department == "tax")
        )
        assert found is not None
        return found

    async def earlier() -> None:
        async with sessions() as db:
            news = News("tax:race-1", "in_review", now + timedelta(seconds=1))
            await add_news(db, await request_in(db), [news], False)
            await db.commit()

    try:
        async with sessions() as first:
            later = News("tax:race-2", "fee_due", now + timedelta(seconds=2))
            await add_news(first, await request_in(first), [later], False)
            beside = asyncio.create_task(earlier())
            await asyncio.sleep(0.5)  # the earlier event is being recorded meanwhile
            await first.commit()
        await beside
        async with sessions() as db:
            return (await request_in(db)).status
    finally:
        await engine.dispose()


def test_the_latest_event_sets_the_status_when_two_are_recorded_at_once(
    settings: Settings, database_url: str
) -> None:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "ana").status_code == 303
        reference = sent_application(client, settings)
        assert run_async(_record_at_once(database_url, reference)) == "fee_due"
