"""A citizen signs in with the national identity service in a real browser, and out again."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e.conftest import axe_violations


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
    expect(page.get_by_role("link", name="Su cuenta")).to_be_visible()
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
