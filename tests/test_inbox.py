"""The agents' hand-off inbox in process (SQLite and PostgreSQL): who may use it, claiming,
replying on the citizen's channel through the sandbox's Twilio API, handing back, and the
day's figures. The whole path with the real bot and a browser is in e2e/test_inbox.py."""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import Sandbox, migrate, run_async
from portal.audit import AuditLog
from portal.audit.models import AuditEvent
from portal.conversations import handoff
from portal.conversations.models import ChatMessage, Conversation, Handoff
from portal.database import make_engine
from portal.outbox.models import OutboxMessage
from portal.staff.service import StaffMember
from scripts.text_the_bot import received
from tests.journey_support import execute, run_worker
from tests.support import csrf_token, sign_in_as, visible_text

_numbers = itertools.count(1)


def _number() -> str:
    return f"+3461{int(time.time()) % 100000:05d}{next(_numbers):03d}"


async def _waiting(
    db: AsyncSession, asked: datetime, said: str, channel: str = "sms", language: str = "es"
) -> Conversation:
    """A conversation the bot handed to a person at `asked`, after the citizen `said` it."""
    conversation = Conversation(
        key=secrets.token_hex(16),
        channel=channel,
        address=_number(),
        language=language,
        language_fixed=True,
        status="waiting",
        handoff_reason="asked",
        handoff_at=asked,
    )
    db.add(conversation)
    await db.flush()
    db.add_all(
        [
            ChatMessage(
                conversation_id=conversation.id, direction="in", author="citizen", body=said
            ),
            Handoff(conversation_id=conversation.id, reason="asked", requested_at=asked),
        ]
    )
    return conversation


def _handed_off(database_url: str, channel: str = "sms", language: str = "es") -> Conversation:
    """A conversation the bot handed to a person a minute ago, as the bot would leave it."""

    async def run() -> Conversation:
        engine = make_engine(database_url)
        asked = datetime.now(UTC) - timedelta(minutes=1)
        async with AsyncSession(engine, expire_on_commit=False) as db:
            conversation = await _waiting(
                db, asked, "quiero hablar con una persona", channel, language
            )
            await db.commit()
        await engine.dispose()
        return conversation

    result: Conversation = run_async(run())
    return result


def _state(database_url: str, key: str) -> tuple[str, Handoff | None]:
    async def run() -> tuple[str, Handoff | None]:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            conversation = await db.scalar(select(Conversation).where(Conversation.key == key))
            assert conversation is not None
            last = await db.scalar(
                select(Handoff)
                .where(Handoff.conversation_id == conversation.id)
                .order_by(Handoff.id.desc())
            )
        await engine.dispose()
        return conversation.status, last

    result: tuple[str, Handoff | None] = run_async(run())
    return result


def _actions(database_url: str, key: str) -> list[tuple[str, str]]:
    async def run() -> list[tuple[str, str]]:
        engine = make_engine(database_url)
        async with AsyncSession(engine) as db:
            events = await db.scalars(
                select(AuditEvent).where(AuditEvent.subject == key).order_by(AuditEvent.id)
            )
            found = [(event.action, event.actor) for event in events]
        await engine.dispose()
        return found

    result: list[tuple[str, str]] = run_async(run())
    return result


def _phone(sandbox: Sandbox, conversation: Conversation) -> list[str]:
    prefix = "whatsapp:" if conversation.channel == "whatsapp" else ""
    with httpx.Client() as client:
        return received(client, sandbox.url, f"{prefix}{conversation.address}")


def test_the_spread_is_the_median_and_the_nearest_rank_90th_percentile() -> None:
    spread = handoff.Spread.of([float(n) for n in range(10, 0, -1)])
    assert (spread.count, spread.median, spread.p90) == (10, 5.5, 9.0)
    assert handoff.Spread.of([30.0]) == handoff.Spread(1, 30.0, 30.0)
    assert handoff.Spread.of([]) == handoff.Spread(0, None, None)


def test_only_agents_reach_the_inbox(portal: TestClient[Any], database_url: str) -> None:
    conversation = _handed_off(database_url)
    key = conversation.key
    pages = [
        "/staff/inbox",
        "/staff/inbox/queue",
        f"/staff/inbox/{key}",
        f"/staff/inbox/{key}/messages",
    ]
    forms = [f"/staff/inbox/{key}/{action}" for action in ("claim", "reply", "hand-back")]
    for path in pages:  # nobody signed in: sent to staff sign-in
        answer = portal.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/sign-in")
    sign_in_as(portal, "ana")  # a citizen's session is not a staff one
    token = csrf_token(portal.get("/account").text)
    for path in pages:
        answer = portal.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/sign-in")
    for path in forms:
        answer = portal.post(
            path, data={"_csrf_token": token, "message": "hi"}, follow_redirects=False
        )
        assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/sign-in")
    for who in ("editor", "admin"):  # staff without the agent role
        portal.cookies.clear()
        sign_in_as(portal, who, "/staff", staff=True)
        token = csrf_token(portal.get("/staff").text)
        for path in pages:
            assert portal.get(path).status_code == 403, (who, path)
        for path in forms:
            answer = portal.post(path, data={"_csrf_token": token, "message": "hi"})
            assert answer.status_code == 403, (who, path)
    assert _state(database_url, key)[0] == "waiting"  # nothing was claimed or sent
    assert ("role_denied", "staff:staff-editor-01") in _actions(database_url, "/staff/inbox")


def test_an_agent_claims_replies_on_the_citizens_channel_and_hands_back(
    portal: TestClient[Any], database_url: str, sandbox: Sandbox
) -> None:
    conversation = _handed_off(database_url, channel="whatsapp")
    key = conversation.key
    sign_in_as(portal, "agent", "/staff", staff=True)
    inbox = portal.get("/staff/inbox")
    assert f'href="/staff/inbox/{key}"' in inbox.text
    assert "Waiting for a person" in inbox.text
    page = portal.get(f"/staff/inbox/{key}")
    assert "quiero hablar con una persona" in page.text
    assert "Español" in page.text  # the citizen's language, named in it
    assert "Claim this conversation" in page.text
    token = csrf_token(page.text)
    counted = "frontdoor_handoff_wait_seconds_count"
    waits = REGISTRY.get_sample_value(counted, {"reason": "asked"}) or 0.0
    claimed = portal.post(f"/staff/inbox/{key}/claim", data={"_csrf_token": token})
    assert "You are answering it. The assistant is paused." in claimed.text
    status, held = _state(database_url, key)
    assert status == "agent" and held is not None and held.agent == "staff:staff-agent-01"
    # The wait until an agent took it is counted for the operators' metrics.
    assert REGISTRY.get_sample_value(counted, {"reason": "asked"}) == waits + 1

    empty = portal.post(f"/staff/inbox/{key}/reply", data={"_csrf_token": token, "message": " "})
    assert empty.status_code == 400 and "Type your reply" in empty.text
    long = "x" * 1601
    too_long = portal.post(
        f"/staff/inbox/{key}/reply", data={"_csrf_token": token, "message": long}
    )
    assert too_long.status_code == 400 and "1,600 characters or fewer" in too_long.text
    assert long in too_long.text  # what was typed is not lost
    assert _phone(sandbox, conversation) == []

    reply = "Hola, soy Alex. Ya he avisado al servicio de alumbrado."
    sent = portal.post(
        f"/staff/inbox/{key}/reply",
        data={"_csrf_token": token, "message": reply},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and "#message-" in sent.headers["location"]
    assert _phone(sandbox, conversation) == [reply]  # on WhatsApp, through Twilio
    assert reply in portal.get(f"/staff/inbox/{key}").text

    back = portal.post(f"/staff/inbox/{key}/hand-back", data={"_csrf_token": token})
    assert "The conversation is back with the assistant." in back.text
    status, held = _state(database_url, key)
    assert status == "bot" and held is not None and held.ended_by == "agent"
    assert held.claimed_at is not None and held.ended_at is not None
    # No bot runs here: the greeting it would send is the apology, on the same channel.
    assert len(_phone(sandbox, conversation)) == 2
    actions = _actions(database_url, key)
    assert ("handoff_claimed", "staff:staff-agent-01") in actions
    assert ("handoff_returned", "staff:staff-agent-01") in actions
    assert ("conversation_viewed", "staff:staff-agent-01") in actions
    figures = portal.get("/staff/inbox").text
    assert "Median" in figures and "90th percentile" in figures
    assert 'hx-get="/staff/inbox/queue?seen=' in figures  # it updates itself
    stopped = portal.get("/staff/inbox", params={"live": "0"}).text  # until the agent stops it
    assert 'hx-get="/staff/inbox/queue' not in stopped
    assert "Update the list by itself every 5 seconds" in stopped
    # Back with the bot, it is no longer the inbox's to read.
    assert portal.get(f"/staff/inbox/{key}").status_code == 404
    assert portal.get(f"/staff/inbox/{key}/messages").status_code == 404

    again = portal.post(f"/staff/inbox/{key}/reply", data={"_csrf_token": token, "message": "?"})
    assert again.status_code == 409 and "claim it first" in again.text
    assert len(_phone(sandbox, conversation)) == 2


def test_another_agent_cannot_write_in_a_claimed_conversation(
    portal: TestClient[Any], database_url: str, sandbox: Sandbox
) -> None:
    conversation = _handed_off(database_url)
    key = conversation.key
    sign_in_as(portal, "agent", "/staff", staff=True)
    token = csrf_token(portal.get(f"/staff/inbox/{key}").text)
    portal.post(f"/staff/inbox/{key}/claim", data={"_csrf_token": token})
    portal.cookies.clear()
    sign_in_as(portal, "agent-2", "/staff", staff=True)
    page = portal.get(f"/staff/inbox/{key}")
    assert "Alex Agent is answering it." in page.text
    assert "Claim this conversation" not in page.text and 'name="message"' not in page.text
    token = csrf_token(portal.get("/staff").text)
    late = portal.post(f"/staff/inbox/{key}/claim", data={"_csrf_token": token})
    assert "Another agent claimed this conversation first" in late.text
    assert "govuk-notification-banner--success" not in late.text  # news, not a success
    for action in ("reply", "hand-back"):
        refused = portal.post(
            f"/staff/inbox/{key}/{action}", data={"_csrf_token": token, "message": "hola"}
        )
        assert refused.status_code == 409
    assert _state(database_url, key)[0] == "agent"
    assert _phone(sandbox, conversation) == []
    queue = portal.get("/staff/inbox/queue").text
    assert "Held by other agents" in queue and "Alex Agent" in queue


@pytest.mark.parametrize("agents", [2, 5])
def test_agents_claiming_at_once_leave_one_holder(database_url: str, agents: int) -> None:
    conversation = _handed_off(database_url)

    async def run() -> list[bool]:
        engine = make_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        audit = AuditLog(sessions)

        async def one(n: int) -> bool:
            async with sessions() as db:
                mine = await db.get(Conversation, conversation.id)
                assert mine is not None
                member = StaffMember(f"agent-{n}", f"Agent {n}", "", frozenset({"agent"}))
                return await handoff.claim(db, audit, mine, member)

        outcomes = await asyncio.gather(*(one(n) for n in range(agents)))
        await engine.dispose()
        return list(outcomes)

    outcomes = run_async(run())
    assert sorted(outcomes) == [False] * (agents - 1) + [True]
    status, held = _state(database_url, conversation.key)
    assert status == "agent" and held is not None
    assert held.agent == f"staff:agent-{outcomes.index(True)}"


def test_a_web_chat_citizen_sees_the_agents_reply_arrive(
    portal_factory: Callable[..., TestClient[Any]], database_url: str
) -> None:
    citizen = portal_factory(database_url=database_url)
    token = csrf_token(citizen.get("/chat").text)
    citizen.post("/chat", data={"_csrf_token": token, "message": "I need a person"})
    page = citizen.get("/chat").text
    assert '<div id="chat-poll"></div>' in page  # with the bot: nothing to look for
    [conversation] = run_async(_web_conversations(database_url, page))
    run_async(_hand_off(database_url, conversation))  # as the bot's hand-off action does
    page = citizen.get("/chat").text
    assert "Check for new messages" in page  # without JavaScript
    newest = max(int(n) for n in re.findall(r'id="message-(\d+)"', page))
    assert f'hx-get="/chat/log?after={newest}"' in page  # with it, htmx asks every few seconds

    agent = portal_factory(database_url=database_url)
    sign_in_as(agent, "agent", "/staff", staff=True)
    token = csrf_token(agent.get(f"/staff/inbox/{conversation}").text)
    agent.post(f"/staff/inbox/{conversation}/claim", data={"_csrf_token": token})
    reply = "Hello, this is Alex from the city. How can I help?"
    agent.post(f"/staff/inbox/{conversation}/reply", data={"_csrf_token": token, "message": reply})

    arrived = citizen.get("/chat/log", params={"after": newest}, headers={"HX-Request": "true"})
    assert reply in arrived.text and "A person from our team:" in arrived.text
    assert "I need a person" not in arrived.text  # only what is new
    assert 'hx-swap-oob="true"' in arrived.text and "/chat/log?after=" in arrived.text


async def _web_conversations(database_url: str, page: str) -> list[str]:
    """The key of the web conversation whose messages the page shows."""
    shown = [int(n) for n in re.findall(r'id="message-(\d+)"', page)]
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        keys = await db.scalars(
            select(Conversation.key)
            .join(ChatMessage, ChatMessage.conversation_id == Conversation.id)
            .where(ChatMessage.id == shown[0])
        )
        found = list(keys)
    await engine.dispose()
    return found


async def _hand_off(database_url: str, key: str) -> None:
    engine = make_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as db:
        conversation = await db.scalar(select(Conversation).where(Conversation.key == key))
        assert conversation is not None
        await handoff.request(db, AuditLog(sessions), conversation, "asked")
        await db.commit()
    await engine.dispose()


def test_the_queue_is_sent_again_only_when_it_changed(
    portal: TestClient[Any], database_url: str
) -> None:
    conversation = _handed_off(database_url)
    sign_in_as(portal, "agent", "/staff", staff=True)

    def poll_of(html: str) -> str:
        found = re.search(r'hx-get="(/staff/inbox/queue\?seen=[0-9a-f]+)"', html)
        assert found, html
        return found.group(1)

    poll = poll_of(portal.get("/staff/inbox").text)
    assert portal.get(poll).status_code == 204  # nothing new: the page stays as it is
    message = insert(ChatMessage).values(
        conversation_id=conversation.id,
        direction="in",
        author="citizen",
        body="¿sigue ahí?",
        media=[],
    )
    run_async(execute(database_url, message))
    changed = portal.get(poll)
    assert changed.status_code == 200 and "¿sigue ahí?" in changed.text
    assert portal.get(poll_of(changed.text)).status_code == 204


def test_todays_figures_count_the_citys_day() -> None:
    """Europe/Madrid: 23:30 UTC on 14 January is already the 15th there, 22:30 is not."""
    now = datetime(2030, 1, 14, 23, 45, tzinfo=UTC)  # 00:45 on the 15th in the city
    start, end = handoff.today(now)
    assert start <= datetime(2030, 1, 14, 23, 30, tzinfo=UTC) < end
    assert not start <= datetime(2030, 1, 14, 22, 30, tzinfo=UTC) < end


def test_replies_while_twilio_is_down_wait_and_go_out_once_in_order(
    portal: TestClient[Any],
    database_url: str,
    sandbox: Sandbox,
    make_settings: Callable[..., Any],
) -> None:
    conversation = _handed_off(database_url, channel="sms")
    key = conversation.key
    sign_in_as(portal, "agent", "/staff", staff=True)
    token = csrf_token(portal.get(f"/staff/inbox/{key}").text)
    portal.post(f"/staff/inbox/{key}/claim", data={"_csrf_token": token})
    sandbox.set_fault("twilio", down=True)
    replies = ["Un momento, lo consulto.", "Ya está: su farola se repara mañana."]
    for reply in replies:
        kept = portal.post(
            f"/staff/inbox/{key}/reply", data={"_csrf_token": token, "message": reply}
        )
        assert kept.status_code == 202
        assert "will be sent as soon as the messaging service takes it" in visible_text(kept.text)
        assert "You do not need to send it again" in visible_text(kept.text)
    sandbox.set_fault("twilio")
    assert _phone(sandbox, conversation) == []
    # The workers send them when Twilio is back: the second is taken only once the first is
    # out (one sequence), within the same pass, and nothing goes twice in later passes.
    settings = make_settings(database_url=database_url)
    sent = []
    for _ in range(3):
        run_async(execute(database_url, _due_now()))
        run_worker(settings)
        sent.append(_phone(sandbox, conversation))
    assert sent == [replies, replies, replies]  # in order, and each once


def _due_now() -> Any:
    soon = datetime.now(UTC) - timedelta(seconds=1)
    return (
        update(OutboxMessage).where(OutboxMessage.status == "pending").values(next_attempt_at=soon)
    )


def _queue_of(database_url: str, count: int) -> list[Conversation]:
    """`count` conversations waiting, the n-th (from 1) handed over n minutes after yesterday's
    start, its newest message "Mensaje número n" (two digits)."""

    async def run() -> list[Conversation]:
        engine = make_engine(database_url)
        start = datetime.now(UTC) - timedelta(days=1)
        made = []
        async with AsyncSession(engine, expire_on_commit=False) as db:
            for n in range(1, count + 1):
                asked = start + timedelta(minutes=n)
                made.append(await _waiting(db, asked, f"Mensaje número {n:02d}"))
            await db.commit()
        await engine.dispose()
        return made

    result: list[Conversation] = run_async(run())
    return result


@pytest.fixture(params=["sqlite", "postgresql"])
def thirty_waiting(
    request: pytest.FixtureRequest, fresh_database: Callable[[str], str]
) -> tuple[str, list[Conversation]]:
    """A database of its own (the counts are exact) with 30 conversations waiting."""
    url = fresh_database(request.param)
    migrate(url)
    return url, _queue_of(url, 30)


def _link(html: str, name: str) -> str:
    """The address of the link named `name` (its text, tags inside it left out)."""
    found = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>(?:<[^>]+>)*{re.escape(name)}<', html)
    assert found, f"no link {name!r}"
    return unescape(found.group(1))


def _poll(html: str) -> str:
    found = re.search(r'hx-get="(/staff/inbox/queue\?[^"]+)"', html)
    assert found, "the list does not update itself"
    return unescape(found.group(1))


def test_the_inbox_shows_the_oldest_25_waiting_and_pages_to_the_others(
    portal_factory: Callable[..., TestClient[Any]], thirty_waiting: tuple[str, list[Conversation]]
) -> None:
    database_url, _ = thirty_waiting
    agent = portal_factory(database_url=database_url)
    sign_in_as(agent, "agent", "/staff", staff=True)
    first = agent.get("/staff/inbox").text
    shown = visible_text(first)
    assert "Waiting for a person 1 to 25 of 30 waiting" in shown
    assert "Mensaje número 01" in shown and "Mensaje número 25" in shown
    assert "Mensaje número 26" not in shown
    assert shown.index("número 01") < shown.index("número 02") < shown.index("número 25")
    assert "Previous" not in shown  # the first page

    second = agent.get(_link(first, "Next")).text
    shown = visible_text(second)
    assert "26 to 30 of 30 waiting" in shown
    assert "Mensaje número 26" in shown and "Mensaje número 30" in shown
    assert "Mensaje número 25" not in shown and "Next" not in shown  # the last page
    # Without JavaScript, refreshing the list (or stopping it updating) keeps the page.
    for name in ("Refresh the list", "Stop updating the list by itself"):
        assert "Mensaje número 26" in visible_text(agent.get(_link(second, name)).text), name

    back = agent.get(_link(second, "Previous")).text
    assert "1 to 25 of 30 waiting" in visible_text(back)
    assert "Mensaje número 01" in visible_text(back)


def test_the_list_updating_itself_keeps_the_agent_on_their_page(
    portal_factory: Callable[..., TestClient[Any]], thirty_waiting: tuple[str, list[Conversation]]
) -> None:
    database_url, queue = thirty_waiting
    agent = portal_factory(database_url=database_url)
    sign_in_as(agent, "agent", "/staff", staff=True)
    second = agent.get(_link(agent.get("/staff/inbox").text, "Next")).text
    poll = _poll(second)
    assert agent.get(poll).status_code == 204  # nothing new

    # The oldest goes back to the assistant, the 27th writes again.
    run_async(execute(database_url, _ended(queue[0].id)))
    run_async(
        execute(
            database_url,
            update(Conversation).where(Conversation.id == queue[0].id).values(status="bot"),
        )
    )
    message = insert(ChatMessage).values(
        conversation_id=queue[26].id, direction="in", author="citizen", body="¿Sigue ahí?", media=[]
    )
    run_async(execute(database_url, message))
    changed = agent.get(poll)
    assert changed.status_code == 200
    shown = visible_text(changed.text)
    assert "25 to 29 of 29 waiting" in shown  # one fewer before this page
    assert "Mensaje número 26" in shown and "¿Sigue ahí?" in shown
    assert "Mensaje número 02" not in shown  # still the agent's page, not the first
    assert agent.get(_poll(changed.text)).status_code == 204


def _ended(conversation_id: int) -> Any:
    return (
        update(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .values(ended_at=datetime.now(UTC), ended_by="citizen")
    )


def test_an_agent_reads_the_queue_and_its_pages_in_arabic(
    portal_factory: Callable[..., TestClient[Any]], thirty_waiting: tuple[str, list[Conversation]]
) -> None:
    database_url, _ = thirty_waiting
    agent = portal_factory(database_url=database_url)
    sign_in_as(agent, "agent", "/staff", staff=True)
    arabic = {"accept-language": "ar"}
    first = agent.get("/staff/inbox", headers=arabic).text
    assert '<html lang="ar" dir="rtl"' in first
    shown = visible_text(first)
    assert "بانتظار شخص 1 إلى 25 من 30 محادثة في الانتظار" in shown
    assert "Mensaje número 01" in shown and "السابق" not in shown
    second = visible_text(agent.get(_link(first, "التالي"), headers=arabic).text)
    assert "26 إلى 30 من 30 محادثة في الانتظار" in second and "Mensaje número 26" in second


def test_the_inbox_counts_todays_hand_offs_and_their_waiting_time(
    portal_factory: Callable[..., TestClient[Any]], fresh_database: Callable[[str], str]
) -> None:
    url = fresh_database("postgresql")  # a database of its own: the count is exact
    migrate(url)

    async def run() -> None:
        engine = make_engine(url)
        async with AsyncSession(engine) as db:
            now = datetime.now(UTC)
            claimed = await _waiting(db, now, "hola")
            await _waiting(db, now, "hello", language="en")
            await db.execute(
                update(Handoff)
                .where(Handoff.conversation_id == claimed.id)
                .values(claimed_at=now + timedelta(minutes=3), agent="staff:someone")
            )
            await db.commit()
        await engine.dispose()

    run_async(run())
    portal = portal_factory(database_url=url)
    sign_in_as(portal, "agent", "/staff", staff=True)
    text = visible_text(portal.get("/staff/inbox").text)
    assert re.search(r"Conversations handed to a person\s+2\b", text), text
    assert re.search(r"Waiting time, until an agent claimed it\s+Median 3", text), text
