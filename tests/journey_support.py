"""Filling journeys as a citizen's browser would (GET the page, POST its form), and running the
outbox worker in-process against the same database and sandbox."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Sandbox, run_async
from portal.database import make_engine
from portal.settings import Settings
from portal.worker import application_work, close
from tests.support import csrf_token

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

BUSINESS_ANSWERS: list[tuple[str, dict[str, Any]]] = [
    ("business-name", {"business_name": "Café Sol"}),
    ("legal-form", {"legal_form": "partnership"}),
    (
        "partners/1",
        {
            "partner_name": "Luis Pérez",
            **{
                "partner_birth_date-day": "3",
                "partner_birth_date-month": "7",
                "partner_birth_date-year": "1980",
            },
        },
    ),
    ("partners", {"add_another": "no"}),
    ("activity", {"activity": "food"}),
    ("activity-description", {"activity_description": "A small café serving coffee and cakes."}),
    (
        "premises",
        {"premises_address-line1": "12 Harbour Street", "premises_address-town": "Riverside"},
    ),
    ("floor-area", {"floor_area": "85"}),
    (
        "opening-date",
        {"opening_date-day": "1", "opening_date-month": "3", "opening_date-year": "2027"},
    ),
    ("opening-days", {"opening_days": ["monday", "saturday"]}),
    ("has-employees", {"has_employees": "yes"}),
    ("employees", {"employee_count": "3"}),
    ("turnover", {"expected_turnover": "120000"}),
    ("tax-scheme", {"tax_scheme": "simplified"}),
    ("premises-proof", {}),
    (
        "contact",
        {"contact_name": "Ana García", "contact_email": "ana@example.org", "contact_phone": ""},
    ),
]


def answer(
    client: Any, path: str, data: dict[str, Any], files: dict[str, Any] | None = None
) -> httpx.Response:
    """Open the page, then post its form with `data` (the redirect is not followed)."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code, page.text[:500])
    response: httpx.Response = client.post(
        path,
        data={"_csrf_token": csrf_token(page.text), **data},
        files=files,
        follow_redirects=False,
    )
    return response


def draft_path(client: Any, service: str, fresh: bool = True) -> str:
    """Start a service (`fresh`: deleting the draft left by an earlier test; else resume it);
    returns /drafts/<id>."""
    response = client.get(f"/services/{service}/apply", follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.match(r"(/drafts/d_[0-9a-f]+)/", response.headers["location"])
    assert match, response.headers["location"]
    if not fresh:
        return match.group(1)
    token = csrf_token(client.get("/applications").text)
    deleted = client.post(
        f"{match.group(1)}/delete", data={"_csrf_token": token}, follow_redirects=True
    )
    assert deleted.status_code == 200
    return draft_path(client, service, fresh=False)


def fill_business(client: Any, **changes: dict[str, Any]) -> str:
    """Answer every question of "Open a business"; returns the draft's path."""
    base = draft_path(client, "open-business")
    for step, data in BUSINESS_ANSWERS:
        data = changes.get(step, data)
        files = (
            {"premises_proof": ("lease.pdf", PDF, "application/pdf")}
            if step == "premises-proof"
            else None
        )
        response = answer(client, f"{base}/{step}", data, files)
        assert response.status_code == 303, (step, response.status_code, response.text[:3000])
    return base


def check_token(client: Any, base: str) -> str:
    """Open 'Check your answers'; the token its Send form carries."""
    page = client.get(f"{base}/check")
    assert page.status_code == 200, page.text[:2000]
    return csrf_token(page.text)


def submit(client: Any, base: str, token: str | None = None) -> httpx.Response:
    """Press 'Accept and send' (with a page already open: pass its token)."""
    data = {"_csrf_token": token or check_token(client, base)}
    response: httpx.Response = client.post(f"{base}/submit", data=data, follow_redirects=False)
    return response


def reference_of(response: httpx.Response) -> str:
    match = re.match(
        r"/applications/(FD-[0-9A-Z]{4}-[0-9A-Z]{4})/confirmation", response.headers["location"]
    )
    assert match, response.headers.get("location")
    return match.group(1)


def run_worker(settings: Settings, check_cases: bool = False) -> int:
    """Deliver everything due now (and, if asked, poll departments), like one worker pass."""

    async def once() -> int:
        work, outbox = application_work(settings)
        try:
            done = await outbox.run_once()
            if check_cases:
                done += await work.check_cases()
            return done
        finally:
            await close(work)

    return int(run_async(once()))


def sent_application(client: Any, settings: Settings) -> str:
    """An "Open a business" application, sent and delivered to its departments."""
    base = fill_business(client)
    reference = reference_of(submit(client, base))
    run_worker(settings)
    return reference


def case_of(sandbox: Sandbox, department: str, reference: str) -> dict[str, Any]:
    """The department's case (in the sandbox) for one of our applications."""
    return next(
        case
        for case in sandbox.cases(department)
        if case["request"]["application_reference"] == reference
    )


async def execute(database_url: str, *statements: Any) -> None:
    """Change the database behind the portal's back (what a crash or a bug would leave)."""
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        for statement in statements:
            await db.execute(statement)
        await db.commit()
    await engine.dispose()
