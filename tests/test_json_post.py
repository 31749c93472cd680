"""The JSON adapter (CONTRACTS.md §10) end to end: an "Open a business" application for large
premises reaches the fire safety inspectorate's legacy wrapper (the sandbox's, over HTTP) through
the real outbox worker, signed and in the committed schema; lost answers, refusals and malformed
answers; status pushed back shows on the citizen's page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.departments import verify
from backend_clients.json_post import SCHEMA_FILE
from conftest import Sandbox, run_async
from portal.app import create_app
from portal.applications.models import Application, DepartmentRequest
from portal.contracts.json_post import SANDBOX_SECRET
from portal.database import make_engine
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from tests.journey_support import execute, fill_business, reference_of, run_worker, submit
from tests.support import sign_in_as
from tests.test_digit import problems

DEPARTMENT = "fire-safety"
NAME = "Fire safety inspectorate"
LARGE_PREMISES = {"floor-area": {"floor_area": "200"}}  # over 150 m²: the inspectorate too


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings],
    database_url: str,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Settings]:
    """The portal and worker pointed at the sandbox's wrapper (the variable departments.yaml
    names), whose next answers are normal again afterwards."""
    monkeypatch.setenv(
        "FRONTDOOR_FIRE_SAFETY_URL", f"{sandbox.url}/legacy/{DEPARTMENT}/applications"
    )
    monkeypatch.delenv("FRONTDOOR_FIRE_SAFETY_SECRET", raising=False)
    yield make_settings(database_url=database_url)
    answers(sandbox, None)


@pytest.fixture
def ana(settings: Settings) -> Iterator[Any]:
    with TestClient(create_app(settings)) as client:
        assert sign_in_as(client, "ana").status_code == 303
        yield client


def answers(sandbox: Sandbox, mode: str | None, count: int = 1) -> None:
    """Make the wrapper's next answers lost or malformed (None: normal)."""
    url = f"{sandbox.url}/_sandbox/legacy/answers"
    httpx.put(url, json={"mode": mode, "count": count}).raise_for_status()


def records(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    """The wrapper's records of one application."""
    found = httpx.get(f"{sandbox.url}/_sandbox/legacy/records").json()["records"]
    return [r for r in found if r["body"]["references"]["application"] == reference]


def send_large_premises(client: Any) -> str:
    return reference_of(submit(client, fill_business(client, **LARGE_PREMISES)))


def advance(client: Any, sandbox: Sandbox, record_id: str) -> None:
    """The wrapper moves the record on; its signed push reaches our webhook (the test client
    stands in for the network, as the portal is served in-process)."""
    pushed = httpx.post(f"{sandbox.url}/_sandbox/legacy/records/{record_id}/advance").json()
    webhook = pushed["webhook"]
    answer = client.post(
        f"/webhooks/departments/{DEPARTMENT}",
        content=webhook["body"],
        headers={"content-type": "application/json", **webhook["headers"]},
    )
    assert answer.status_code == 200 and answer.json() == {"recorded": 1}, answer.text


def timeline(client: Any, reference: str) -> list[str]:
    """The inspectorate's timeline entries as a reader sees them."""
    html = client.get(f"/applications/{reference}").text
    items = re.findall(r'<li class="fd-timeline__item">(.*?)</li>', html, re.S)
    texts = [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item))).strip() for item in items]
    return [text for text in texts if NAME in text]


def headings(client: Any, reference: str) -> list[str]:
    """Each entry's status and department, without its time."""
    return [entry.split(" · ")[0] for entry in timeline(client, reference)]


def outbox_message(database_url: str, reference: str) -> OutboxMessage:
    async def find() -> OutboxMessage:
        engine = make_engine(database_url)
        try:
            async with AsyncSession(engine) as db:
                request = await db.scalar(
                    select(DepartmentRequest)
                    .join(Application, Application.id == DepartmentRequest.application_id)
                    .where(
                        Application.reference == reference,
                        DepartmentRequest.department == DEPARTMENT,
                    )
                )
                assert request is not None
                message = await db.scalar(
                    select(OutboxMessage).where(OutboxMessage.key == f"deliver-{request.public_id}")
                )
                assert message is not None
                return message
        finally:
            await engine.dispose()

    return run_async(find())  # type: ignore[no-any-return]


def retry_now(database_url: str) -> None:
    run_async(
        execute(
            database_url,
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)),
        )
    )


def test_the_application_reaches_the_wrapper_once_signed_and_in_the_schema(
    ana: Any, settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    reference = send_large_premises(ana)
    run_worker(settings)
    run_worker(settings)  # nothing left to send: no second call
    [record] = records(sandbox, reference)
    assert record["create_calls"] == 1 and re.fullmatch(r"LG-[0-9]{6}", record["id"])
    body, headers = record["body"], record["headers"]
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert verify(SANDBOX_SECRET.encode(), headers["x-frontdoor-signature"], raw, time.time())
    assert headers["content-type"] == "application/json"
    assert headers["idempotency-key"] == outbox_message(database_url, reference).key
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert problems(body, schema, SCHEMA_FILE.name) == []
    assert body["schema"] == "frontdoor.application/1" and body["department"] == DEPARTMENT
    assert body["service"] == {"id": "open-business", "title": "Open a business", "version": 1}
    assert body["answers"]["floor_area"] in (200, "200") and "tax_scheme" not in body["answers"]
    assert body["callback_url"].endswith(f"/webhooks/departments/{DEPARTMENT}")
    assert headings(ana, reference) == [f"Received by the department {NAME}"]

    advance(ana, sandbox, record["id"])
    advance(ana, sandbox, record["id"])
    assert headings(ana, reference) == [  # newest first
        f"Approved {NAME}",
        f"Being reviewed {NAME}",
        f"Received by the department {NAME}",
    ]
    assert "Fire safety check passed: no visit needed" in timeline(ana, reference)[0]


def test_small_premises_do_not_reach_the_inspectorate(
    ana: Any, settings: Settings, sandbox: Sandbox
) -> None:
    reference = reference_of(submit(ana, fill_business(ana)))  # 85 m²
    run_worker(settings)
    assert records(sandbox, reference) == [] and timeline(ana, reference) == []


def test_a_lost_answer_and_the_retry_make_one_record(
    ana: Any, settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    answers(sandbox, "lost")
    reference = send_large_premises(ana)
    run_worker(settings)
    [record] = records(sandbox, reference)  # kept, though we never heard
    message = outbox_message(database_url, reference)
    assert message.status == "pending" and "answered 500" in (message.last_error or "")
    assert timeline(ana, reference) == []
    retry_now(database_url)
    run_worker(settings)
    [again] = records(sandbox, reference)
    assert again["id"] == record["id"] and again["create_calls"] == 2
    assert outbox_message(database_url, reference).status == "done"
    assert headings(ana, reference) == [f"Received by the department {NAME}"]


def test_a_refusal_parks_the_message_with_the_reason(
    ana: Any,
    settings: Settings,
    sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRONTDOOR_FIRE_SAFETY_SECRET", "not-the-inspectorates-key")
    reference = send_large_premises(ana)
    run_worker(settings)
    assert records(sandbox, reference) == []
    message = outbox_message(database_url, reference)
    assert message.status == "failed"
    assert message.last_error == "department fire-safety: refused with 401: bad signature"
    [entry] = timeline(ana, reference)
    assert entry.startswith("Could not be sent: we are looking into it")


def test_a_malformed_answer_parks_the_message_with_the_reason(
    ana: Any, settings: Settings, sandbox: Sandbox, database_url: str
) -> None:
    answers(sandbox, "malformed")
    reference = send_large_premises(ana)
    run_worker(settings)
    message = outbox_message(database_url, reference)
    assert message.status == "failed"
    error = message.last_error or ""
    assert error.startswith("department fire-safety: unexpected answer (id: Field required")
    assert '{"id": "...", "status": "received"}' in error
    [entry] = timeline(ana, reference)
    assert entry.startswith("Could not be sent: we are looking into it")
