"""Issue 18's whole path in one browser run, without a restart, on a portal of two workers: a
citizen starts the service; a designer writes its next version (a page shown on a condition and
a third department), previews it in Arabic, submits it; publishing it herself is refused; a
second designer publishes it (languages its new texts lack shown in English); a citizen
completes the new version while the first finishes theirs on the version they started."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.test_design_versions import clean, design, open_page, start  # noqa: F401 (fixtures)

NEW_PAGES = """  - id: event
    fields:
      - id: street_event
        type: yes_no
        label: Will you close the street?
  - id: closure
    when: {field: street_event, equals: "yes"}
    fields:
      - id: closure_hours
        type: number
        label: For how many hours will the street be closed?
deliver_to:
"""
NEW_DEPARTMENTS = """  - department: tax
  - department: highways
    when: {field: street_event, equals: "yes"}
"""


def staff(page: Page, user: str) -> Page:
    page.goto("/staff/services")
    page.locator('a[href^="/staff/sign-in/start"], button[type=submit]').first.click()
    page.get_by_role("button", name=re.compile(rf"\({user}\)")).click()
    page.wait_for_url("**/staff/services")
    return page


def test_a_new_version_designed_previewed_published_and_used(
    design: tuple[str, str, Path],  # noqa: F811
    open_page: Callable[..., Page],  # noqa: F811
) -> None:
    # Omar starts the service on version 1 and stops at the check page.
    omar = open_page("en")
    omar_base = start(omar, "omar", "en")
    omar.locator("#name").fill("Omar Haddad")
    omar.locator("main form button.govuk-button").last.click()
    expect(omar).to_have_url(re.compile(r"/check$"))

    # Dana writes version 2: a page on a condition, and three departments.
    dana = staff(open_page("en"), "designer")
    dana.goto("/staff/services/design-permit")
    dana.get_by_role("button", name="Write a new version").click()
    expect(dana).to_have_url(re.compile(r"/staff/services/design-permit/versions/2$"))
    source = dana.locator("textarea#source").input_value()
    written = source.replace("deliver_to:\n", NEW_PAGES, 1).rstrip("\n") + "\n" + NEW_DEPARTMENTS
    dana.locator("textarea#source").fill(written)
    dana.get_by_role("button", name="Save", exact=True).click()
    expect(dana.locator(".govuk-error-summary")).to_have_count(0)
    outline = dana.locator(".govuk-grid-column-one-third")
    expect(outline).to_contain_text("For how many hours will the street be closed?")
    expect(outline).to_contain_text("highways")
    clean(dana, "done-outline-en")

    # She previews it in Arabic: the conditional page shows when its condition holds, and
    # sending shows the three departments without sending anything.
    arabic = staff(open_page("ar"), "designer")
    arabic.goto("/staff/services/design-permit/versions/2")
    arabic.locator('form[action$="/versions/2/preview"] button').click()
    expect(arabic.locator("#preview-title")).to_be_visible()
    expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    arabic.locator("#name").fill("دانة")
    arabic.locator("main form button.govuk-button").last.click()
    arabic.locator("#street_event").check()  # the first radio: yes
    arabic.locator("main form button.govuk-button").last.click()
    expect(arabic.locator("#closure_hours")).to_be_visible()
    clean(arabic, "done-preview-conditional-ar")
    arabic.locator("#closure_hours").fill("4")
    arabic.locator("main form button.govuk-button").last.click()
    expect(arabic).to_have_url(re.compile(r"/check$"))
    arabic.locator('form[action$="/submit"] button').click()
    for name in ("الطرق والشوارع", "مكتب الضرائب", "إدارة البيئة"):
        expect(arabic.locator("main")).to_contain_text(name)
    clean(arabic, "done-would-send-ar")

    # She submits it; publishing it herself is refused.
    dana.goto("/staff/services/design-permit/versions/2")
    dana.get_by_role("button", name="Save and submit for review").click()
    dana.get_by_role("button", name="Publish this version").click()
    expect(dana.locator(".govuk-error-summary")).to_contain_text("Another designer must publish it")

    # Paz's publishing is refused while Spanish and Arabic lack its new texts; once Dana has
    # chosen to show them in English, Paz publishes it.
    paz = staff(open_page("en"), "publisher")
    paz.goto("/staff/services/design-permit/versions/2")
    paz.get_by_role("button", name="Publish this version").click()
    expect(paz.locator(".govuk-error-summary")).to_contain_text("lacks")
    dana.goto("/staff/services/design-permit/versions/2")
    dana.locator("#fallback-es").check()
    dana.locator("#fallback-ar").check()
    dana.get_by_role("button", name="Save the languages").click()
    paz.goto("/staff/services/design-permit/versions/2")
    paz.get_by_role("button", name="Publish this version").click()
    expect(paz).to_have_url(re.compile(r"/staff/services/design-permit$"))
    expect(paz.locator("main")).to_contain_text("published a version")
    clean(paz, "done-published-en")

    # Lee completes version 2, with the closure page and its three departments.
    lee = open_page("en")
    start(lee, "lee", "en")
    lee.locator("#name").fill("Lee Smith")
    lee.locator("main form button.govuk-button").last.click()
    lee.locator("#street_event").check()
    lee.locator("main form button.govuk-button").last.click()
    lee.locator("#closure_hours").fill("6")
    lee.locator("main form button.govuk-button").last.click()
    expect(lee.locator("[data-fd-service-version]")).to_have_text("Version 2 of this service")
    lee.locator('form[action$="/submit"] button').click()
    expect(lee).to_have_url(re.compile(r"/confirmation$"))

    # Omar's draft goes on with version 1: no new page, sent with it.
    omar.goto(f"{omar_base}/check")
    expect(omar.locator("[data-fd-service-version]")).to_have_text("Version 1 of this service")
    expect(omar.get_by_text("Will you close the street?")).to_have_count(0)
    omar.locator('form[action$="/submit"] button').click()
    expect(omar).to_have_url(re.compile(r"/confirmation$"))
