"""Operators' backends page: counts per backend, one backend's waiting and parked messages, and
retry / park / cancel, each audited; cancelled work is never sent and the citizen is told."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Sandbox, downgrade, migrate, run_async
from portal.applications.models import Application, DepartmentRequest, TimelineEvent
from portal.audit.models import AuditEvent
from portal.database import make_engine
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from tests.journey_support import execute, fill_business, reference_of, run_worker, submit
from tests.support import csrf_token, sign_in_as

# Where a café's "Open a business" goes: four departments and the markets office's mailbox.
DEPARTMENTS = ("trade-licence", "tax", "environment", "employer", "markets")


class _Text(HTMLParser):
    """A page as a reader sees it: its text, and each table (by caption) as rows of cells."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: list[str] | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._skip = 0
        self._name = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "caption" and self._caption is not None:
            self._name = " ".join(" ".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._name] = self._rows
            self._rows = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.words.append(data)
        for part in (self._caption, self._cell):
            if part is not None:
                part.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.words).split())


def read(html: str) -> _Text:
    parsed = _Text()
    parsed.feed(html)
    return parsed


def backends_table(client: TestClient[Any]) -> dict[str, list[str]]:
    """/staff/backends' table: the backend's name and id -> its counts and oldest age."""
    page = client.get("/staff/backends")
    assert page.status_code == 200
    rows = read(page.text).tables["Messages per backend"]
    assert rows[0] == [
        "Backend",
        "Queued",
        "Retrying",
        "Parked",
        "Done in the last 24 hours",
        "Oldest waiting",
    ]
    return {row[0]: row[1:] for row in rows[1:]}


@pytest.fixture
def own_database(fresh_database: Callable[[str], str]) -> str:
    """A migrated PostgreSQL database of this test's own: its outbox holds only its messages."""
    url = fresh_database("postgresql")
    migrate(url)
    return url


@pytest.fixture
def settings(make_settings: Callable[..., Settings], own_database: str) -> Settings:
    return make_settings(database_url=own_database)


@pytest.fixture
def clients(settings: Settings) -> Iterator[Callable[[str, bool], TestClient[Any]]]:
    """Signed-in browsers on the portal: ("ana", False) a citizen, ("admin", True) staff."""
    from portal.app import create_app

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


async def _messages(url: str) -> dict[str, OutboxMessage]:
    """The deliver messages by department."""
    engine = make_engine(url)
    async with AsyncSession(engine) as db:
        found = await db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "deliver"))
        messages = {message.target: message for message in found}
    await engine.dispose()
    return messages


async def _audits(url: str, action: str) -> list[AuditEvent]:
    engine = make_engine(url)
    async with AsyncSession(engine) as db:
        found = list(await db.scalars(select(AuditEvent).where(AuditEvent.action == action)))
    await engine.dispose()
    return found


def _sent_with_tax_down(ana: TestClient[Any], settings: Settings, sandbox: Sandbox) -> str:
    """An application to four departments, sent while the tax office is down: three are
    delivered, the tax office's message waits to be retried."""
    reference = reference_of(submit(ana, fill_business(ana)))
    sandbox.set_fault("tax", down=True)
    try:
        run_worker(settings)
    finally:
        sandbox.set_fault("tax", down=False)
    return reference


def _act(admin: TestClient[Any], target: str, message_id: int, action: str) -> Any:
    """Press an action's button on the backend's page, as a browser would."""
    token = csrf_token(admin.get(f"/staff/backends/{target}").text)
    return admin.post(
        f"/staff/backends/{target}/messages/{message_id}/{action}",
        data={"_csrf_token": token},
        follow_redirects=False,
    )


def test_counts_per_backend_show_what_waits_is_retried_parked_and_done(
    clients: Any, settings: Settings, sandbox: Sandbox, own_database: str
) -> None:
    ana, admin = clients("ana", False), clients("admin", True)
    _sent_with_tax_down(ana, settings, sandbox)
    table = backends_table(admin)
    assert table["Tax office tax"][:4] == ["0", "1", "0", "0"]
    assert table["Trade licensing office trade-licence"][:4] == ["0", "0", "0", "1"]
    assert table["Environment department environment"][:4] == ["0", "0", "0", "1"]
    assert table["Public works public-works"] == ["0", "0", "0", "0", "Nothing waiting"]
    assert table["Tax office tax"][4] != "Nothing waiting"  # how long it has waited
    # A new message not yet tried is queued; one the worker gave up on is parked.
    tax = run_async(_messages(own_database))["tax"]
    run_async(
        execute(
            own_database,
            update(OutboxMessage)
            .where(OutboxMessage.target == "environment")
            .values(status="failed", last_error="422 rejected: premises_address missing"),
            update(OutboxMessage)
            .where(OutboxMessage.id == tax.id)
            .values(attempts=0, next_attempt_at=datetime.now(UTC) + timedelta(hours=1)),
        )
    )
    table = backends_table(admin)
    assert table["Tax office tax"][:4] == ["1", "0", "0", "0"]
    assert table["Environment department environment"][:4] == ["0", "0", "1", "0"]
    page = read(admin.get("/staff/backends/environment").text)
    heading = "Backend environment Environment department 1 message is waiting or parked."
    assert heading in page.text
    [header, row] = next(iter(page.tables.values()))
    assert header[:7] == [
        "Message",
        "Concerns",
        "State",
        "Attempts",
        "Age",
        "Next attempt",
        "Last error",
    ]
    reference = run_async(_reference(own_database))
    assert row[0] == "Message {} Send an application".format(
        run_async(_messages(own_database))["environment"].id
    )
    assert row[1] == reference and row[2] == "Parked" and row[5] == "None: waits for a person"
    assert "422 rejected: premises_address missing" in row[6]


async def _reference(url: str) -> str:
    engine = make_engine(url)
    async with AsyncSession(engine) as db:
        reference = await db.scalar(select(Application.reference))
    await engine.dispose()
    assert reference is not None
    return reference


def test_retry_park_and_cancel_change_the_state_and_are_audited(
    clients: Any, settings: Settings, sandbox: Sandbox, own_database: str
) -> None:
    ana, admin = clients("ana", False), clients("admin", True)
    _sent_with_tax_down(ana, settings, sandbox)
    tax = run_async(_messages(own_database))["tax"]
    assert (tax.status, tax.attempts) == ("pending", 1)

    parked = _act(admin, "tax", tax.id, "park")
    assert parked.status_code == 303
    page = read(admin.get(parked.headers["location"]).text).text
    assert f"Message {tax.id} is parked. It will not be sent until someone retries it." in page
    now = run_async(_messages(own_database))["tax"]
    assert now.status == "failed" and now.attempts == 1
    assert now.last_error.startswith("Parked by Ada Admin (staff:")
    assert tax.last_error in now.last_error  # the backend's error is kept after the note

    refused = _act(admin, "tax", tax.id, "park")
    assert refused.status_code == 409
    assert f"Message {tax.id} cannot be parked: its state is Parked." in read(refused.text).text

    retried = _act(admin, "tax", tax.id, "retry")
    assert retried.status_code == 303
    now = run_async(_messages(own_database))["tax"]
    assert now.status == "pending" and now.attempts == 1
    assert now.next_attempt_at.replace(tzinfo=UTC) <= datetime.now(UTC)

    cancelled = _act(admin, "tax", tax.id, "cancel")
    page = read(admin.get(cancelled.headers["location"]).text).text
    assert f"Message {tax.id} is cancelled. It will never be sent." in page
    assert "Nothing is waiting for this backend." in page
    assert run_async(_messages(own_database))["tax"].status == "cancelled"
    again = _act(admin, "tax", tax.id, "retry")
    assert again.status_code == 409
    assert (
        f"Message {tax.id} cannot be sent again: its state is Cancelled." in read(again.text).text
    )

    for action, before, after in (
        ("outbox_park", "pending", "failed"),
        ("outbox_retry", "failed", "pending"),
        ("outbox_cancel", "pending", "cancelled"),
    ):
        [event] = run_async(_audits(own_database, action))
        assert event.actor == "staff:staff-admin-01" and event.subject == f"outbox:{tax.id}"
        assert event.details["before"] == before and event.details["after"] == after
        assert event.details["target"] == "tax" and event.details["kind"] == "deliver"


def test_a_done_message_has_no_actions_and_refuses_them(
    clients: Any, settings: Settings, sandbox: Sandbox, own_database: str
) -> None:
    ana, admin = clients("ana", False), clients("admin", True)
    _sent_with_tax_down(ana, settings, sandbox)
    done = run_async(_messages(own_database))["employer"]
    assert done.status == "done"
    page = read(admin.get("/staff/backends/employer").text).text
    assert "Nothing is waiting for this backend." in page and f"Message {done.id}" not in page
    token = csrf_token(admin.get("/staff/backends/tax").text)
    for action, verb in (("retry", "sent again"), ("park", "parked"), ("cancel", "cancelled")):
        refused = admin.post(
            f"/staff/backends/employer/messages/{done.id}/{action}",
            data={"_csrf_token": token},
            headers={"accept-language": "en"},
        )
        assert refused.status_code == 409
        assert f"Message {done.id} cannot be {verb}: its state is Done." in read(refused.text).text
    assert run_async(_messages(own_database))["employer"].status == "done"
    assert run_async(_audits(own_database, "outbox_retry")) == []


def test_a_message_without_a_csrf_token_is_refused(
    clients: Any, settings: Settings, sandbox: Sandbox, own_database: str
) -> None:
    ana, admin = clients("ana", False), clients("admin", True)
    _sent_with_tax_down(ana, settings, sandbox)
    tax = run_async(_messages(own_database))["tax"]
    response = admin.post(f"/staff/backends/tax/messages/{tax.id}/cancel", data={})
    assert response.status_code == 403
    assert run_async(_messages(own_database))["tax"].status == "pending"


def test_only_administrators_open_the_backends_pages(
    clients: Any, settings: Settings, sandbox: Sandbox, own_database: str
) -> None:
    ana, agent = clients("ana", False), clients("agent", True)
    _sent_with_tax_down(ana, settings, sandbox)
    tax = run_async(_messages(own_database))["tax"]
    for path in ("/staff/backends", "/staff/backends/tax"):
        denied = agent.get(path)
        assert denied.status_code == 403
        assert "You cannot see this page" in read(denied.text).text
        to_sign_in = ana.get(path, follow_redirects=False)  # a citizen's session
        assert to_sign_in.status_code == 303
        assert to_sign_in.headers["location"] == f"/staff/sign-in?next={path}"
    token = csrf_token(agent.get("/staff").text)
    refused = agent.post(
        f"/staff/backends/tax/messages/{tax.id}/cancel", data={"_csrf_token": token}
    )
    assert refused.status_code == 403
    assert run_async(_messages(own_database))["tax"].status == "pending"
    [denial, *_] = run_async(_audits(own_database, "role_denied"))
    assert denial.subject == "/staff/backends" and denial.details["needed"] == ["admin"]
    assert "Backends" not in read(agent.get("/staff").text).text


async def _timeline(url: str, department: str) -> tuple[str, list[str]]:
    engine = make_engine(url)
    async with AsyncSession(engine) as db:
        request = await db.scalar(
            select(DepartmentRequest).where(DepartmentRequest.department == department)
        )
        assert request is not None
        statuses = list(
            await db.scalars(
                select(TimelineEvent.status).where(
                    TimelineEvent.application_id == request.application_id,
                    TimelineEvent.department == department,
                )
            )
        )
    await engine.dispose()
    return request.status, statuses


def test_a_cancelled_delivery_is_never_sent_and_the_citizen_is_told(
    clients: Any, settings: Settings, sandbox: Sandbox, own_database: str
) -> None:
    ana, admin = clients("ana", False), clients("admin", True)
    reference = _sent_with_tax_down(ana, settings, sandbox)
    tax = run_async(_messages(own_database))["tax"]
    assert _act(admin, "tax", tax.id, "cancel").status_code == 303
    assert run_async(_timeline(own_database, "tax")) == ("not_delivered", ["not_delivered"])
    # Due again and the tax office back up: the worker still never sends it.
    run_async(
        execute(
            own_database,
            update(OutboxMessage).values(next_attempt_at=datetime.now(UTC) - timedelta(hours=1)),
        )
    )
    assert run_worker(settings) == 0
    assert not [
        case
        for case in sandbox.cases("tax")
        if case["request"]["application_reference"] == reference
    ]
    assert run_async(_messages(own_database))["tax"].status == "cancelled"
    page = read(ana.get(f"/applications/{reference}").text).text
    assert "Could not be sent: we are looking into it" in page


def test_messages_queued_before_the_column_get_their_backend_from_the_payload(
    clients: Any, settings: Settings, sandbox: Sandbox, own_database: str
) -> None:
    ana = clients("ana", False)
    _sent_with_tax_down(ana, settings, sandbox)
    downgrade(own_database, "0017")
    migrate(own_database)
    targets = sorted(run_async(_messages(own_database)))
    assert targets == sorted(DEPARTMENTS)
