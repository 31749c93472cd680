"""An office with only a mailbox (the markets office, contract "email"): it receives one email per
application in its language with the summary, a PDF, the answers as JSON and the documents; a
retry after a lost answer is filed as the same message; its staff move the application on from
their page and the citizen sees each step and is notified; more information goes both ways;
another office's staff find nothing. Real PostgreSQL, the sandbox's SMTP receiver, the worker
in-process."""

from __future__ import annotations

import io
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import ROOT, Sandbox, migrate, run_async
from portal.app import create_app
from portal.applications.models import (
    Application,
    DepartmentRequest,
    Notification,
    TimelineEvent,
)
from portal.audit.models import AuditEvent
from portal.contracts.base import Applicant, Outgoing
from portal.contracts.email import summary_pdf, write
from portal.database import make_engine
from portal.identity.models import Citizen
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from tests.journey_support import PDF, execute, fill_business, reference_of, run_worker, submit
from tests.support import csrf_token, sign_in_as

OFFICE = "markets@city.example"


def _text(html: str) -> str:
    """What a reader sees: the page without its tags."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def own_database(fresh_database: Callable[[str], str]) -> str:
    """A migrated PostgreSQL database for this module's tests."""
    url = fresh_database("postgresql")
    migrate(url)
    return url


@pytest.fixture
def settings(make_settings: Callable[..., Settings], own_database: str) -> Settings:
    return make_settings(database_url=own_database)


@pytest.fixture
def browsers(settings: Settings) -> Iterator[Callable[[str, bool], TestClient[Any]]]:
    """Signed-in browsers: ("ana", False) the citizen, ("office", True) the office's staff."""
    opened: list[TestClient[Any]] = []

    def open_as(user: str, staff: bool) -> TestClient[Any]:
        client: TestClient[Any] = TestClient(create_app(settings))
        client.__enter__()
        opened.append(client)
        assert sign_in_as(client, user, "/staff" if staff else "/account", staff).status_code == 303
        return client

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)


def _send(ana: TestClient[Any], settings: Settings) -> str:
    """Ana's "Open a business" for a café (food: the markets office gets it too), delivered."""
    reference = reference_of(submit(ana, fill_business(ana)))
    run_worker(settings)
    return reference


def _mail_for(sandbox: Sandbox, reference: str) -> list[dict[str, Any]]:
    return [m for m in sandbox.mail(to=OFFICE) if reference in m["subject"]]


def _attachment(sandbox: Sandbox, message: dict[str, Any], number: int) -> bytes:
    url = f"{sandbox.url}/mail/messages/{message['id']}/attachments/{number}"
    response = httpx.get(url)
    response.raise_for_status()
    return response.content


async def _request_of(url: str, reference: str) -> DepartmentRequest:
    engine = make_engine(url)
    async with AsyncSession(engine) as db:
        found = await db.scalar(
            select(DepartmentRequest)
            .join(Application, Application.id == DepartmentRequest.application_id)
            .where(Application.reference == reference, DepartmentRequest.department == "markets")
        )
    await engine.dispose()
    assert found is not None
    return found


async def _count(url: str, statement: Any) -> int:
    engine = make_engine(url)
    async with AsyncSession(engine) as db:
        value = await db.scalar(statement)
    await engine.dispose()
    return int(value or 0)


def _retry_now(url: str) -> None:
    run_async(
        execute(
            url,
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)),
        )
    )


def test_the_office_receives_one_email_in_its_language_with_pdf_json_and_documents(
    browsers: Callable[[str, bool], TestClient[Any]], settings: Settings, sandbox: Sandbox
) -> None:
    ana = browsers("ana", False)
    reference = _send(ana, settings)
    [message] = _mail_for(sandbox, reference)
    assert message["copies"] == 1 and message["message_id"]
    # Spanish, the office's language: the service and the questions as the Spanish pages say them.
    assert message["language"] == "es"
    assert "Abrir un negocio" in message["subject"]
    assert "Café Sol" in message["text"] and "12 Harbour Street" in message["text"]
    assert "Ana García" in message["text"] and "lease.pdf" in message["text"]
    public_id = run_async(_request_of(settings.database_url, reference)).public_id
    assert f"/staff/office/{public_id}" in message["text"]  # where the office records its steps
    assert message["html"] and "Café Sol" in _text(message["html"])
    names = [(a["filename"], a["content_type"]) for a in message["attachments"]]
    assert names == [
        (f"{reference}.pdf", "application/pdf"),
        (f"{reference}.json", "application/json"),
        ("lease.pdf", "application/pdf"),
    ]
    pdf = PdfReader(io.BytesIO(_attachment(sandbox, message, 0))).pages[0].extract_text()
    assert reference in pdf and "Café Sol" in pdf and "Abrir un negocio" in pdf
    answers = json.loads(_attachment(sandbox, message, 1))
    assert answers["application_reference"] == reference
    assert answers["answers"]["business_name"] == "Café Sol"
    assert "expected_turnover" not in answers["answers"]  # only the office's answers
    assert list(answers["documents"].values()) == ["lease.pdf"]
    assert _attachment(sandbox, message, 2) == PDF
    page = _text(ana.get(f"/applications/{reference}").text)
    assert "Markets office" in page and "Sent to the office by email." in page


def test_an_arabic_summary_pdf_keeps_its_words() -> None:
    """The PDF's Arabic is shaped and right to left, and its text reads back as written."""
    rows = [("ما اسم عملك التجاري؟", "مقهى الشمس"), ("الاسم الكامل", "عمر حداد")]
    pdf = summary_pdf(
        "طلب FD-AAAA-BBBB", "مرحبا", [], "الإجابات", rows, "ar", ROOT / "build" / "fonts"
    )
    text = unicodedata.normalize("NFKC", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    for words in ("مقهى الشمس", "عمر حداد", "الإجابات"):
        assert words in text or words[::-1] in text, (words, text)


def test_the_email_is_written_in_the_offices_language(settings: Settings) -> None:
    outgoing = Outgoing(
        request_reference="dr_1",
        application_reference="FD-AAAA-BBBB",
        service="open-business",
        service_title="Open a business",
        service_version=1,
        language="en",
        applicant=Applicant(name="Omar Haddad"),
        answers={},
        documents={},
        summary=lambda language: [("Q", language)],
        request={},
        callback_url="",
        key="deliver-dr_1",
    )
    written = write(outgoing, "ar", [], "https://x/staff/office/dr_1", Path(settings.fonts_dir))
    assert "- Q: ar" in written.text and 'dir="rtl"' in written.html and 'lang="ar"' in written.html
    assert written.pdf.startswith(b"%PDF")


def test_a_retry_after_a_lost_answer_is_the_same_message_to_the_office(
    browsers: Callable[[str, bool], TestClient[Any]],
    settings: Settings,
    sandbox: Sandbox,
) -> None:
    """SMTP cannot say "already sent": the relay took the email but its answer came after our
    timeout, so the worker sends it again. Both copies carry one Message-ID and the receiver
    (as the office's mailbox would) lists one message, counting two copies."""
    ana = browsers("ana", False)
    reference = reference_of(submit(ana, fill_business(ana)))
    sandbox.set_fault("mail", delay_ms=int(settings.backend_timeout_seconds * 1000) + 1000)
    run_worker(settings)  # the markets email times out waiting for "250"
    deadline = time.monotonic() + 10
    while not _mail_for(sandbox, reference) and time.monotonic() < deadline:
        time.sleep(0.2)  # the relay keeps it once its delay is over
    assert len(_mail_for(sandbox, reference)) == 1
    assert run_async(_request_of(settings.database_url, reference)).case_id is None
    sandbox.set_fault("mail", delay_ms=0)
    _retry_now(settings.database_url)
    run_worker(settings)
    [message] = _mail_for(sandbox, reference)
    assert message["copies"] == 2  # sent twice, filed once
    request = run_async(_request_of(settings.database_url, reference))
    assert request.case_id == reference
    # Once the delivery is written down, the message run again sends nothing.
    run_async(
        execute(
            settings.database_url,
            update(OutboxMessage)
            .where(OutboxMessage.key == f"deliver-{request.public_id}")
            .values(status="pending", next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)),
        )
    )
    run_worker(settings)
    assert _mail_for(sandbox, reference)[0]["copies"] == 2
    page = _text(ana.get(f"/applications/{reference}").text)
    assert page.count("Sent to the office by email.") == 1


def _step(office: TestClient[Any], public_id: str, step: str, note: str = "") -> httpx.Response:
    page = office.get(f"/staff/office/{public_id}")
    assert page.status_code == 200, page.text[:500]
    response: httpx.Response = office.post(
        f"/staff/office/{public_id}/steps/{step}",
        data={"_csrf_token": csrf_token(page.text), "note": note},
        follow_redirects=False,
    )
    return response


def test_the_office_moves_the_application_on_and_the_citizen_sees_each_step(
    browsers: Callable[[str, bool], TestClient[Any]], settings: Settings, sandbox: Sandbox
) -> None:
    ana = browsers("ana", False)
    run_async(  # Ana wants her updates by email
        execute(
            settings.database_url,
            update(Citizen)
            .where(Citizen.subject.like("citizen-ana-%"))
            .values(preferred_channel="email"),
        )
    )
    reference = _send(ana, settings)
    public_id = run_async(_request_of(settings.database_url, reference)).public_id
    office = browsers("office", True)
    listed = _text(office.get("/staff/office").text)
    assert "Applications sent to your office" in listed and reference in listed
    shown = office.get(f"/staff/office/{public_id}")
    page = _text(shown.text)
    assert "Café Sol" in page and "A small café serving coffee and cakes." in page
    assert "Ana García" in page and "lease.pdf" in page
    link = re.search(rf'href="(/staff/office/{public_id}/documents/f_[^"]+)"', shown.text)
    assert link and office.get(link.group(1)).content == PDF

    # Without its token the form is refused; nothing is recorded.
    forged = office.post(f"/staff/office/{public_id}/steps/received", data={"note": ""})
    assert forged.status_code == 403

    assert _step(office, public_id, "received").status_code == 303
    done = _text(office.get(f"/staff/office/{public_id}?done=received").text)
    assert "Recorded: received." in done
    assert "Being reviewed" in _text(ana.get(f"/applications/{reference}").text)
    again = _step(office, public_id, "received")  # not offered twice; a stale form is refused
    assert again.status_code == 409 and "That step cannot be recorded now" in _text(again.text)

    empty = _step(office, public_id, "information")
    assert empty.status_code == 400 and "Enter a note for the citizen" in _text(empty.text)
    asked = _step(office, public_id, "information", "Send your food hygiene certificate.")
    assert asked.status_code == 303
    citizen = ana.get(f"/applications/{reference}")
    seen = _text(citizen.text)
    assert "Action needed" in seen and "Send your food hygiene certificate." in seen

    # The citizen answers from their application page, as for any department.
    answered = ana.post(
        f"/applications/{reference}/information/markets",
        data={"_csrf_token": csrf_token(citizen.text), "information": "Certificate attached."},
        files={"attachment": ("hygiene.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    run_worker(settings)
    # In the office's language (Spanish): "More information for application ..."
    follow_up = [m for m in sandbox.mail(to=OFFICE) if "Más información" in m["subject"]]
    follow_up = [m for m in follow_up if reference in m["subject"]]
    assert len(follow_up) == 1 and "Certificate attached." in follow_up[0]["text"]
    assert [a["filename"] for a in follow_up[0]["attachments"]] == ["hygiene.pdf"]
    seen = _text(ana.get(f"/applications/{reference}").text)
    assert "The office has your answer: we sent it by email." in seen
    office_page = office.get(f"/staff/office/{public_id}")
    assert "Certificate attached." in _text(office_page.text)
    # Its history speaks of the citizen to the office, not to the citizen.
    assert "The citizen sent more information" in _text(office_page.text)
    assert "You sent more information" not in _text(office_page.text)
    assert "hygiene.pdf" in _text(office_page.text)

    assert _step(office, public_id, "approved").status_code == 303
    seen = _text(ana.get(f"/applications/{reference}").text)
    assert "Approved" in seen
    finished = _text(office.get(f"/staff/office/{public_id}").text)
    assert "there is nothing more to record" in finished

    # Each step told the citizen (through the usual notifications) and was audited.
    url = settings.database_url
    application_id = run_async(_request_of(url, reference)).application_id
    for status in ("in_review", "information_requested", "approved"):
        queued = select(func.count(Notification.id)).join(
            TimelineEvent, TimelineEvent.id == Notification.event_id
        )
        queued = queued.where(
            TimelineEvent.application_id == application_id,
            TimelineEvent.department == "markets",
            TimelineEvent.status == status,
            TimelineEvent.external_id.like(f"office:{public_id}:%"),
        )
        assert run_async(_count(url, queued)) == 1, status
    for action in ("office_received", "office_information", "office_approved"):
        audited = select(func.count(AuditEvent.id)).where(
            AuditEvent.action == action,
            AuditEvent.subject == f"application:{reference}",
            AuditEvent.actor == "staff:staff-office-01",
        )
        assert run_async(_count(url, audited)) == 1, action
    run_worker(settings)
    told = [m["text"] for m in sandbox.mail(to="ana@example.org") if reference in m["text"]]
    assert any("Oficina de mercados: Aprobada" in text for text in told), told  # in Spanish


def test_another_offices_staff_find_nothing(
    browsers: Callable[[str, bool], TestClient[Any]], settings: Settings, sandbox: Sandbox
) -> None:
    ana = browsers("ana", False)
    reference = _send(ana, settings)
    public_id = run_async(_request_of(settings.database_url, reference)).public_id
    office = browsers("office", True)
    shown = office.get(f"/staff/office/{public_id}")
    link = re.search(rf'href="(/staff/office/{public_id}/documents/f_[^"]+)"', shown.text)
    assert link
    other = browsers("office-2", True)
    assert reference not in _text(other.get("/staff/office").text)
    assert other.get(f"/staff/office/{public_id}").status_code == 404
    assert other.get(link.group(1)).status_code == 404
    token = csrf_token(other.get("/staff/office").text)
    refused = other.post(
        f"/staff/office/{public_id}/steps/approved",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    assert run_async(_request_of(settings.database_url, reference)).status == "received"
    agent = browsers("agent", True)
    assert agent.get("/staff/office").status_code == 403


def test_a_rejection_needs_a_note_and_the_citizen_reads_it(
    browsers: Callable[[str, bool], TestClient[Any]], settings: Settings, sandbox: Sandbox
) -> None:
    ana = browsers("ana", False)
    reference = _send(ana, settings)
    public_id = run_async(_request_of(settings.database_url, reference)).public_id
    office = browsers("office", True)
    empty = _step(office, public_id, "rejected")
    assert empty.status_code == 400 and "Enter a note for the citizen" in _text(empty.text)
    note = "Food businesses cannot trade from this street."
    assert _step(office, public_id, "rejected", note).status_code == 303
    seen = _text(ana.get(f"/applications/{reference}").text)
    assert "Rejected" in seen and note in seen
    assert run_async(_request_of(settings.database_url, reference)).finished
