"""One "Open a business" application to four kinds of backend at once: our case API (trade
licence, tax, employer), DIGIT (shop licensing, workflow v2), a mailbox (the markets office) and
a legacy system behind the JSON adapter (fire safety). Each must get it exactly once, whatever
the sandbox's faults do and even when the worker dies after a backend answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Sandbox, run_async
from portal.app import create_app
from portal.applications.models import Application, DepartmentRequest
from portal.database import make_engine
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from tests.journey_support import execute, fill_business, reference_of, run_worker, submit
from tests.support import sign_in_as, visible_text

OURS = ("trade-licence", "tax", "employer")
EVERY = (*OURS, "licensing", "markets", "fire-safety")
# A shop of 200 m² with staff: not the environment department's (food or manufacturing only).
SHOP = {
    "activity": {"activity": "retail"},
    "activity-description": {"activity_description": "A bookshop with a reading corner."},
    "floor-area": {"floor_area": "200"},
}


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings],
    database_url: str,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    # The fire safety wrapper's address comes from its department's config (url_env).
    monkeypatch.setenv(
        "FRONTDOOR_FIRE_SAFETY_URL", f"{sandbox.url}/legacy/fire-safety/applications"
    )
    monkeypatch.delenv("FRONTDOOR_FIRE_SAFETY_SECRET", raising=False)
    return make_settings(database_url=database_url)


@pytest.fixture
def ana(settings: Settings) -> Any:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "ana").status_code == 303
        yield client


def _due_now(database_url: str) -> None:
    run_async(
        execute(
            database_url,
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)),
        )
    )


async def _requests(database_url: str, reference: str) -> dict[str, DepartmentRequest]:
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        rows = await db.scalars(
            select(DepartmentRequest)
            .join(Application, Application.id == DepartmentRequest.application_id)
            .where(Application.reference == reference)
        )
        found = {row.department: row for row in rows}
    await engine.dispose()
    return found


async def _forget_every_delivery(database_url: str, reference: str) -> None:
    """As if the worker had died after each backend answered and before we wrote it down."""
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        rows = (
            await db.scalars(
                select(DepartmentRequest)
                .join(Application, Application.id == DepartmentRequest.application_id)
                .where(Application.reference == reference)
            )
        ).all()
        for row in rows:
            row.case_id = None
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.key == f"deliver-{row.public_id}")
                .values(status="pending", next_attempt_at=datetime.now(UTC))
            )
        await db.commit()
    await engine.dispose()


def _delivered(
    sandbox: Sandbox, reference: str, requests: dict[str, DepartmentRequest]
) -> dict[str, int]:
    """How many records each backend holds for this application (what must be 1)."""
    counts = {
        department: len(
            [
                case
                for case in sandbox.cases(department)
                if case["request"]["application_reference"] == reference
            ]
        )
        for department in OURS
    }
    digit = httpx.get(f"{sandbox.url}/_sandbox/digit/").json()
    counts["licensing"] = sum(  # DIGIT's workflow keys an application by its number: count APPLYs
        1
        for business_id, steps in digit["processes"].items()
        if reference in business_id
        for step in steps
        if step.get("action") == "APPLY"
    )
    legacy = httpx.get(f"{sandbox.url}/_sandbox/legacy/records").json()["records"]
    counts["fire-safety"] = len([record for record in legacy if reference in str(record)])
    counts["markets"] = len(
        [message for message in sandbox.mail() if reference in str(message.get("subject"))]
    )
    return counts


def test_one_application_reaches_four_kinds_of_backend_exactly_once_under_faults(
    ana: Any, settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    base = fill_business(ana, **SHOP)
    reference = reference_of(submit(ana, base))
    requests = run_async(_requests(database_url, reference))
    assert sorted(requests) == sorted(EVERY)

    # Every backend fails half its calls, the mailbox too: the worker keeps at it.
    for backend in (*OURS, "digit", "legacy", "mail"):
        sandbox.set_fault(backend, error_rate=0.5)
    for _pass in range(40):
        run_worker(settings)
        requests = run_async(_requests(database_url, reference))
        if all(row.case_id for row in requests.values()):
            break
        _due_now(database_url)
    assert {d: bool(r.case_id) for d, r in requests.items()} == dict.fromkeys(EVERY, True)
    httpx.delete(f"{sandbox.url}/_sandbox/faults").raise_for_status()  # mail kept
    assert _delivered(sandbox, reference, requests) == dict.fromkeys(EVERY, 1)

    # The worker dies after every backend answered: each delivery is made again, and each
    # backend recognises it (its key, DIGIT's reference in additionalDetail, the Message-ID).
    run_async(_forget_every_delivery(database_url, reference))
    assert run_worker(settings) == len(EVERY)
    again = run_async(_requests(database_url, reference))
    assert {d: r.case_id for d, r in again.items()} == {d: r.case_id for d, r in requests.items()}
    assert _delivered(sandbox, reference, again) == dict.fromkeys(EVERY, 1)
    # SMTP cannot say "already sent": the office's mailbox got a second copy with the same
    # Message-ID and files it as one (the email contract's stated trade-off).
    (email,) = [m for m in sandbox.mail() if reference in str(m.get("subject"))]
    assert email["copies"] == 2

    # The citizen sees one application, sent to six departments, each received once.
    page = visible_text(ana.get(f"/applications/{reference}").text)
    for name in (
        "Trade licensing office",
        "Tax office",
        "Employment office",
        "Shop and street trading licensing",
        "Markets office",
        "Fire safety inspectorate",
    ):
        assert name in page, name
