"""A citizen signs in with the national identity service in a real browser, and out again."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from conftest import Sandbox
from e2e.conftest import axe_violations

SID = "AC00000000000000000000000000000000"


@pytest.mark.parametrize("javascript", [True, False])
def test_sign_in_then_out_with_the_national_identity(
    new_context: Callable[..., BrowserContext], javascript: bool
) -> None:
    page = new_context(locale="es-ES", java_script_enabled=javascript).new_page()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    if javascript:  # axe runs inside the page
        assert axe_violations(page) == []
    page.get_by_role("button", name="Continuar al acceso nacional").click()
    page.get_by_role("button", name="Ana García (ana)").click()  # the sandbox provider's page
    expect(page.get_by_role("heading", level=1)).to_have_text("Su cuenta")
    expect(page.get_by_text("ana@example.org")).to_be_visible()
    expect(page.get_by_role("link", name="Su cuenta", exact=True)).to_be_visible()
    if javascript:
        assert axe_violations(page) == []
    page.get_by_role("button", name="Cerrar sesión", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ha cerrado la sesión")
    page.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")


def test_sign_in_pages_are_right_to_left_and_accessible_in_arabic(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="ar").new_page()
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert axe_violations(page) == []
    page.get_by_role("button", name="المتابعة إلى تسجيل الدخول الوطني").click()
    page.get_by_role("button", name="Omar Haddad (omar)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("حسابك")
    assert axe_violations(page) == []


def test_sign_in_with_a_text_message_code_by_keyboard_without_javascript(
    new_context: Callable[..., BrowserContext], sandbox_process: Sandbox
) -> None:
    page = new_context(locale="en-GB", java_script_enabled=False).new_page()
    page.goto("/sign-in/code")
    page.get_by_label("Get a sign-in code").fill("+34 600 111 401")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    url = f"{sandbox_process.url}/twilio/2010-04-01/Accounts/{SID}/Messages.json"
    body = httpx.get(url, params={"To": "+34600111401"}, auth=(SID, "sandbox-auth-token")).json()
    code = re.search(r"\b(\d{6})\b", body["messages"][0]["body"]).group(1)  # type: ignore[union-attr]
    page.get_by_label("Enter your sign-in code").fill(code)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_text("+34600111401")).to_be_visible()


def test_code_errors_are_accessible_in_arabic(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(locale="ar").new_page()
    page.goto("/sign-in/code")
    page.get_by_role("button", name="إرسال الرمز").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []


def test_the_profile_form_is_accessible_with_errors_in_arabic(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="ar").new_page()
    page.goto("/sign-in")
    page.get_by_role("button", name="المتابعة إلى تسجيل الدخول الوطني").click()
    page.get_by_role("button", name="Omar Haddad (omar)").click()
    page.goto("/account/profile")
    assert axe_violations(page) == []
    page.get_by_label("الاسم الكامل").fill("")
    page.get_by_role("button", name="حفظ بياناتك").click()
    summary_link = page.get_by_role("link", name="أدخل اسمك")
    expect(summary_link).to_be_visible()
    assert axe_violations(page) == []
    summary_link.click()  # the error summary takes you to the field
    expect(page.get_by_label("الاسم الكامل")).to_be_focused()
    page.get_by_label("الاسم الكامل").fill("عمر حداد")
    page.get_by_label("WhatsApp").check()
    page.get_by_role("button", name="حفظ بياناتك").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("حسابك")
    expect(page.get_by_text("عمر حداد")).to_be_visible()
    assert axe_violations(page) == []
