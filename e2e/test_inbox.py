"""An agent answers a conversation the bot handed off, in a real browser: the citizen writes on
WhatsApp through the signed Twilio webhook, the real bot hands over, the agent claims it in the
inbox, sees the citizen's new message arrive, replies, and the reply reaches the citizen's phone
through the sandbox's Twilio API; handed back, the bot greets the citizen again."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

import psycopg
from playwright.sync_api import BrowserContext, Page, expect

from conftest import Sandbox
from e2e.conftest import axe_violations
from e2e.test_chatbot import Phone, bot_says, in_language, rows


def _agent_signs_in(page: Page, path: str) -> None:
    page.goto(path)
    page.get_by_role("button", name="Continue to staff sign-in").click()
    page.get_by_role("button", name="Alex Agent (agent)").click()


def _arrives(phone: Phone, seconds: float = 20) -> list[str]:
    """What reaches the phone next (waits for at least one message)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(inbox := phone.inbox()) > phone.received:
            new, phone.received = inbox[phone.received :], len(inbox)
            return new
        time.sleep(0.1)
    raise AssertionError(f"nothing reached {phone.number}")


def test_an_agent_answers_a_whatsapp_conversation_the_bot_handed_off(
    base_url: str,
    bot: str,
    sandbox: Sandbox,
    live_database: str,
    new_context: Callable[..., BrowserContext],
) -> None:
    phone = Phone(base_url, sandbox, "whatsapp")
    phone.send("quiero hablar con una persona")
    [waiting] = phone.send("la farola de mi calle no funciona")
    assert waiting == in_language(
        "es",
        "A person will answer you here as soon as they can. To go back to the assistant, "
        "write BOT.",
    )
    [[key]] = rows(live_database, "SELECT key FROM conversations WHERE address = %s", phone.number)

    page = new_context(locale="en-GB").new_page()
    _agent_signs_in(page, "/staff/inbox")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand-off inbox")
    waiting_table = page.get_by_role("table", name="Waiting for a person")
    expect(waiting_table.locator(f"#open-{key}")).to_be_visible()
    assert axe_violations(page) == []
    page.locator(f"#open-{key}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversation on WhatsApp")
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("la farola de mi calle no funciona")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Español")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Claim this conversation").click()
    expect(page.get_by_text("You are answering it. The assistant is paused.")).to_be_visible()

    phone.post({"Body": "¿hay alguien?"})  # the bot stays quiet; the agent's page shows it
    expect(log).to_contain_text("¿hay alguien?", timeout=15_000)
    phone.nothing_more(1)

    page.get_by_role("button", name="Send reply").click()  # nothing written
    expect(page.get_by_role("alert")).to_contain_text("Type your reply")
    assert axe_violations(page) == []
    reply = "Hola, soy Alex. He avisado al servicio de alumbrado: la arreglarán esta semana."
    page.get_by_label("Your reply").fill(reply)
    page.get_by_role("button", name="Send reply").click()
    assert _arrives(phone) == [reply]
    expect(page.get_by_role("log", name="Messages")).to_contain_text(reply)

    page.get_by_role("button", name="Hand back to the assistant").click()
    expect(page.get_by_role("alert")).to_contain_text("back with the assistant")
    assert _arrives(phone) == [bot_says("es", "utter_greet")]
    [thanks] = phone.send("gracias")
    assert thanks == bot_says("es", "utter_thank")  # the bot answers again
    expect(page.get_by_text("Conversations handed to a person")).to_be_visible()
    expect(page.get_by_text("Median").first).to_be_visible()
    assert axe_violations(page) == []
    [(claimed_by, ended_by)] = rows(
        live_database,
        "SELECT h.agent, h.ended_by FROM handoffs h JOIN conversations c "
        "ON c.id = h.conversation_id WHERE c.key = %s",
        key,
    )
    assert (claimed_by, ended_by) == ("staff:staff-agent-01", "agent")


def test_the_inbox_in_arabic_is_right_to_left_and_accessible(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="ar").new_page()
    page.goto("/staff/inbox")
    page.locator('a[href^="/staff/sign-in/start"]').click()
    page.get_by_role("button", name="Alex Agent (agent)").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text(in_language("ar", "Hand-off inbox"))
    assert axe_violations(page) == []


def _thirty_waiting(database: str) -> None:
    """30 conversations waiting since two days ago (older than any other test's), the n-th
    with its newest message "Mensaje número n" (two digits)."""
    suffix = secrets.token_hex(3)
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as db:
        for n in range(1, 31):
            [(conversation,)] = db.execute(
                "INSERT INTO conversations (key, channel, address, language, language_fixed,"
                " granted, status, handoff_reason, handoff_at, created_at, updated_at)"
                " VALUES (%s, 'sms', %s, 'es', true, '[]', 'waiting', 'asked',"
                " now() - interval '2 days' + %s * interval '1 minute', now(), now())"
                " RETURNING id",
                (secrets.token_hex(16), f"+3469{suffix}{n:02d}", n),
            ).fetchall()
            db.execute(
                "INSERT INTO chat_messages (conversation_id, direction, author, body, media,"
                " created_at) VALUES (%s, 'in', 'citizen', %s, '[]', now())",
                (conversation, f"Mensaje número {n:02d}"),
            )
            db.execute(
                "INSERT INTO handoffs (conversation_id, reason, requested_at)"
                " VALUES (%s, 'asked', now() - interval '2 days' + %s * interval '1 minute')",
                (conversation, n),
            )


def test_an_agent_pages_through_a_long_queue(
    live_database: str, new_context: Callable[..., BrowserContext]
) -> None:
    _thirty_waiting(live_database)
    page = new_context(locale="en-GB").new_page()
    _agent_signs_in(page, "/staff/inbox")
    waiting = page.get_by_role("table", name="Waiting for a person")
    expect(waiting).to_contain_text(re.compile(r"1 to 25 of \d+ waiting"))
    expect(waiting).to_contain_text("Mensaje número 01")
    expect(waiting).not_to_contain_text("Mensaje número 26")
    pages = page.get_by_role("navigation", name="Pages of conversations waiting")
    expect(pages.get_by_role("link", name="Previous")).to_have_count(0)
    assert axe_violations(page) == []
    pages.get_by_role("link", name="Next").click()
    expect(waiting).to_contain_text(re.compile(r"26 to \d+ of \d+ waiting"))
    expect(waiting).to_contain_text("Mensaje número 26")
    expect(waiting).not_to_contain_text("Mensaje número 25")
    assert axe_violations(page) == []
    # The 27th writes again: the list updates itself, and stays on this page.
    [[conversation]] = rows(
        live_database,
        "SELECT conversation_id FROM chat_messages WHERE body = 'Mensaje número 27'"
        " ORDER BY id DESC LIMIT 1",
    )
    rows(
        live_database,
        "INSERT INTO chat_messages (conversation_id, direction, author, body, media, created_at)"
        " VALUES (%s, 'in', 'citizen', '¿Sigue ahí?', '[]', now()) RETURNING id",
        conversation,
    )
    expect(waiting).to_contain_text("¿Sigue ahí?", timeout=15_000)
    expect(waiting).to_contain_text("Mensaje número 26")
    expect(waiting).not_to_contain_text("Mensaje número 01")
    pages.get_by_role("link", name="Previous").click()
    expect(waiting).to_contain_text("Mensaje número 01")
