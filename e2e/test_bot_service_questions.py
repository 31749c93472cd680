"""Questions about a service put to the real bot on each channel, answered from the service's
start page in the citizen's language, with its link."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from conftest import Sandbox
from e2e.test_chatbot import Phone, in_language

COST = (
    "The trade licensing office tells you the licence fee after it has checked your "
    "application. Registering for tax and as an employer is free."
)


def test_how_much_by_sms_in_english(base_url: str, bot: str, sandbox: Sandbox) -> None:
    [reply] = Phone(base_url, sandbox, "sms").send("how much does a trade licence cost?")
    lines = reply.splitlines()
    assert lines[0] == "Open a business"
    assert COST in lines
    assert lines[-1] == f"More on its page: {base_url}/services/open-business"


def test_what_you_need_on_whatsapp_in_spanish(base_url: str, bot: str, sandbox: Sandbox) -> None:
    phone = Phone(base_url, sandbox, "whatsapp")
    [reply] = phone.send("¿qué necesito para abrir un negocio?")
    lines = reply.splitlines()
    assert lines[0] == in_language("es", "Open a business")
    assert lines[1] == in_language("es", "You will need:")
    premises = in_language("es", "the name and address of the business premises")
    assert f"- {premises}" in lines


def test_how_long_on_the_web_chat_in_arabic(
    bot: str, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context(locale="ar").new_page()
    page.goto("/chat")
    page.get_by_label(in_language("ar", "Your message")).fill("كم يستغرق فتح نشاط تجاري؟")
    page.get_by_role("button", name=in_language("ar", "Send")).click()
    reply = page.locator(".fd-chat__message--theirs").last
    duration = (
        "Applying takes about 15 minutes. Most applications are decided within 10 working days."
    )
    expect(reply).to_contain_text(in_language("ar", duration))
    link = reply.get_by_role("link")
    expect(link).to_have_attribute("href", re.compile(r"/services/open-business$"))
