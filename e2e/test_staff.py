"""Staff sign in with their own provider in a real browser: a second factor is required."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from e2e.conftest import axe_violations


def test_an_administrator_with_a_second_factor_reaches_the_audit_trail(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="en-GB").new_page()
    page.goto("/staff/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign in")
    page.get_by_role("button", name="Continue to staff sign-in").click()
    page.get_by_role("button", name="Ada Admin (admin)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    expect(page.get_by_text("is intact.")).to_be_visible()
    assert axe_violations(page) == []


def test_staff_without_a_second_factor_are_turned_away(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="es-ES").new_page()
    page.goto("/staff")
    page.get_by_role("button", name="Continuar al acceso del personal").click()
    page.get_by_role("button", name="Nadia Nomfa (agent-no-mfa)").click()
    expect(page.get_by_role("alert")).to_contain_text("segundo factor")
    assert axe_violations(page) == []
    page.goto("/staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acceso del personal")


def test_the_editors_area_is_accessible_in_arabic(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(locale="ar").new_page()
    page.goto("/staff/translations?language=ar")
    page.locator('a[href^="/staff/sign-in/start"]').click()
    page.get_by_role("button", name="Eli Editor (editor)").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("الترجمات")
    assert axe_violations(page) == []
    page.locator("tbody a[href^='/staff/translations/ar/']").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ترجمة رسالة")
    assert axe_violations(page) == []
    page.locator("#form-0").fill("")
    page.get_by_role("button", name="احفظ كمسودة للمراجعة").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert axe_violations(page) == []
