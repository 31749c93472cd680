"""Every service of the city's catalogue completed in a real browser, as a citizen would, in
English and in Arabic (issue 18, item 8): start page, each question, check page, the fee paid
on the sandbox gateway when the service asks one first, confirmation, then the application at
the right departments of the sandbox. axe finds nothing on every page
in English, and on the start, first question, check and confirmation pages in Arabic.

The portal runs on a database of its own, so the sandbox citizens signed in here (Lee in English,
Omar in Arabic) may send as many applications as the tests need. Each language signs in once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from conftest import ROOT, Sandbox, migrate
from e2e.conftest import (
    axe_violations,
    look_for_escaped_tag,
    running_portal,
    watch_for_escaped_tags,
)
from e2e.test_journeys import SIGN_IN
from e2e.test_payments import enter_card
from portal.catalogue.loader import load_catalogue
from tests.journey_support import PDF, PNG

SHOTS = Path(os.environ.get("FRONTDOOR_SHOTS", "/work/notes/shots/services"))
REFERENCE = re.compile(r"FD-[0-9A-Z]{4}-[0-9A-Z]{4}")
CITY = ZoneInfo("Europe/Madrid")
USERS = {"en": "lee", "ar": "omar"}
# The catalogue the portal serves: the repository's, or another folder's (FRONTDOOR_CATALOGUE_DIR,
# say to try services before they join the repository).
CATALOGUE = load_catalogue(
    Path(os.environ.get("FRONTDOOR_CATALOGUE_DIR", ROOT / "portal" / "catalogue" / "definitions"))
)

Action = Callable[[Page], None]


def radio(field_id: str, number: int = 1) -> Action:
    """Choose the `number`th option (1: the first; for yes/no, 1 is Yes and 2 is No)."""
    selector = f"#{field_id}" if number == 1 else f"#{field_id}-{number}"
    return lambda page: page.locator(selector).check()


def text(field_id: str, value: str) -> Action:
    return lambda page: page.locator(f"#{field_id}").fill(value)


def choose(field_id: str, value: str) -> Action:
    return lambda page: page.locator(f"#{field_id}").select_option(value)


def date(field_id: str, days: int) -> Action:
    """A date `days` from the city's today."""

    def act(page: Page) -> None:
        day = datetime.now(CITY).date() + timedelta(days=days)
        page.locator(f"#{field_id}-day").fill(str(day.day))
        page.locator(f"#{field_id}-month").fill(str(day.month))
        page.locator(f"#{field_id}-year").fill(str(day.year))

    return act


def birthday(field_id: str, day: int, month: int, year: int) -> Action:
    def act(page: Page) -> None:
        page.locator(f"#{field_id}-day").fill(str(day))
        page.locator(f"#{field_id}-month").fill(str(month))
        page.locator(f"#{field_id}-year").fill(str(year))

    return act


def address(field_id: str) -> Action:
    """Search the sandbox geocoder and pick the first address found."""

    def act(page: Page) -> None:
        page.locator(f"#{field_id}-query").fill("plaza espana")
        page.locator('button[name="action"][value="find"]').click()
        page.locator(f'input[name="{field_id}-choice"]').first.check()

    return act


def document(field_id: str, name: str) -> Action:
    """One file for a question that takes one."""
    kind = "application/pdf" if name.endswith(".pdf") else "image/png"
    content = PDF if name.endswith(".pdf") else PNG
    return lambda page: page.locator(f"#{field_id}").set_input_files(
        {"name": name, "mimeType": kind, "buffer": content}
    )


def documents(field_id: str, *names: str) -> Action:
    """Several files, added one at a time (the question takes up to `max_files`)."""

    def act(page: Page) -> None:
        for name in names:
            document(field_id, name)(page)
            page.locator('button[name="action"][value="upload"]').click()
            expect(page.locator("main")).to_contain_text(name)

    return act


def contact(phone: bool = False, email: bool = True) -> list[Action]:
    actions = [text("contact_name", "Sam Rivera")]
    if email:
        actions.append(text("contact_email", "sam.rivera@example.org"))
    if phone:
        actions.append(text("contact_phone", "+34 600 111 222"))
    return actions


@dataclass(frozen=True)
class Script:
    """How a citizen answers one service: each page's step id and what they do there; which
    departments must receive it (Open311 ones by their request); texts the check page shows."""

    steps: list[tuple[str, list[Action]]]
    departments: list[str]
    shows: list[str] = field(default_factory=list)
    open311_code: str | None = None
    fee: str | None = None  # paid before sending, as the check page shows it in English


SCRIPTS: dict[str, Script] = {
    "open-business": Script(
        [
            ("business-name", [text("business_name", "Rivera Books")]),
            ("legal-form", [radio("legal_form", 1)]),
            ("activity", [radio("activity", 1)]),
            ("activity-description", [text("activity_description", "New and used books.")]),
            ("premises", [address("premises_address")]),
            ("floor-area", [text("floor_area", "60")]),
            ("opening-date", [date("opening_date", 30)]),
            ("opening-days", [radio("opening_days", 1)]),
            ("has-employees", [radio("has_employees", 2)]),
            ("turnover", [text("expected_turnover", "40000")]),
            ("tax-scheme", [choose("tax_scheme", "simplified")]),
            ("premises-proof", [document("premises_proof", "lease.pdf")]),
            ("contact", contact()),
        ],
        ["trade-licence", "tax"],
        ["Rivera Books"],
    ),
    "report-a-problem": Script(
        [
            ("category", [radio("category", 1)]),
            ("place", [address("place")]),
            ("description", [text("description", "A deep pothole by the bus stop.")]),
            ("photo", []),
        ],
        [],
        ["A deep pothole by the bus stop."],
        open311_code="pothole",
    ),
    "building-work-notice": Script(
        [
            ("property", [address("property_address")]),
            ("owner", [radio("is_owner", 1)]),
            ("work-type", [radio("work_type", 1)]),
            ("work-description", [text("work_description", "A kitchen extension, 4 by 3 m.")]),
            ("start-date", [date("start_date", 14)]),
            ("plans", [documents("plans", "ground-floor.pdf", "elevations.png")]),
            ("builder", [text("builder_name", "Riverside Builders")]),
            ("contact", contact()),
        ],
        ["planning", "building-control"],
        ["A kitchen extension, 4 by 3 m.", "ground-floor.pdf", "elevations.png"],
    ),
    "street-party-permit": Script(
        [
            ("event-name", [text("event_name", "Mill Lane summer party")]),
            ("event-type", [radio("event_type", 1)]),
            ("event-date", [date("event_date", 40)]),
            ("street", [address("street")]),
            ("times", [text("closure_start", "11am"), text("closure_end", "8pm")]),
            ("attendance", [text("attendance", "80")]),
            ("fire-risks", [radio("fire_risks", 1)]),
            ("contact", contact(phone=True)),
        ],
        ["police", "highways", "fire"],
        ["Mill Lane summer party", "11am"],
    ),
    "school-transport": Script(
        [
            ("district", [radio("district", 2)]),
            ("distance", [radio("distance", 3)]),
            (
                "child",
                [text("child_name", "Alex Rivera"), birthday("child_birth_date", 14, 9, 2016)],
            ),
            ("school", [text("school_name", "Southbank Primary School")]),
            ("home", [address("home_address")]),
            ("contact", contact()),
        ],
        ["schools-south"],
        ["Alex Rivera", "Southbank Primary School"],
    ),
    "noise-complaint": Script(
        [
            ("noise-type", [radio("noise_type", 1)]),
            ("place", [address("place")]),
            ("noise-times", [radio("noise_times", 2)]),
            ("description", [text("description", "Loud music every night until 3am.")]),
        ],
        [],
        ["Loud music every night until 3am."],
        open311_code="noise-music",
    ),
    "street-light-fault": Script(
        [
            ("fault", [radio("fault", 2)]),
            ("place", [address("place")]),
            ("details", [text("details", "Lamp post number 27, outside the library.")]),
            ("photo", [document("photo", "lamp.png")]),
        ],
        [],
        ["Lamp post number 27, outside the library."],
        open311_code="street-light-day",
    ),
    "water-connection": Script(
        [
            ("site", [address("site_address")]),
            ("building-type", [radio("building_type", 2)]),
            ("homes", [text("homes_count", "12")]),
            ("needed-by", [date("needed_by", 60)]),
            ("site-plan", [documents("site_plan", "site-plan.pdf")]),
            ("contact", contact(phone=True)),
        ],
        ["water"],
        ["site-plan.pdf"],
    ),
    "market-stall-licence": Script(
        [
            ("market", [choose("market", "riverside")]),
            ("goods", [radio("goods", 1)]),
            ("goods-description", [text("goods_description", "Homemade jams and chutneys.")]),
            ("hygiene", [document("hygiene_certificate", "hygiene.pdf")]),
            ("start", [date("start_date", 10)]),
            ("pitch-size", [radio("pitch_size", 1)]),
            ("contact", contact()),
        ],
        ["markets"],
        ["Homemade jams and chutneys.", "hygiene.pdf"],
    ),
    "property-tax-discount": Script(
        [
            ("others", [radio("other_adults", 2)]),
            ("account", [text("account_number", "40123456")]),
            ("address", [address("home_address")]),
            ("since", [birthday("alone_since", 1, 10, 2026)]),
            ("contact", contact()),
        ],
        ["tax"],
        ["40123456"],
    ),
    "register-a-birth": Script(
        [
            ("born-here", [radio("born_here", 1)]),
            ("baby", [text("baby_name", "Lucía Rivera"), date("baby_birth_date", -10)]),
            ("parents-married", [radio("parents_married", 1)]),
            ("appointment", [date("appointment_date", 7)]),
            ("contact", contact()),
        ],
        ["register-office"],
        ["Lucía Rivera"],
    ),
    "resident-parking-permit": Script(
        [
            ("lives-in-zone", [radio("lives_in_zone", 1)]),
            ("address", [address("home_address")]),
            ("vehicle", [text("registration", "1234 ABC")]),
            ("fuel", [radio("fuel", 2)]),
            ("proof", [document("address_proof", "water-bill.pdf")]),
            ("contact", contact()),
        ],
        ["parking"],
        ["1234 ABC", "water-bill.pdf"],
        fee="€50.00",
    ),
    "bulky-waste-collection": Script(
        [
            ("address", [address("collection_address")]),
            ("items", [text("item_count", "3")]),
            ("items-description", [text("items_description", "A sofa, a mattress, a fridge.")]),
            ("collection-date", [date("collection_date", 5)]),
            ("contact", contact(phone=True, email=False)),
        ],
        ["waste"],
        ["A sofa, a mattress, a fridge."],
        fee="€30.00",
    ),
    "birth-certificate-copy": Script(
        [
            ("whose", [radio("whose", 1)]),
            (
                "person",
                [
                    text("birth_name", "Samuel Rivera Gómez"),
                    birthday("birth_date", 3, 5, 1990),
                    text("birth_place", "Riverside General Hospital"),
                ],
            ),
            ("parents", []),
            ("copies", [text("copies", "2")]),
            ("delivery", [radio("delivery", 2)]),  # by post: the address is asked
            ("postal-address", [address("postal_address")]),
            ("contact", contact()),
        ],
        ["register-office"],
        ["Samuel Rivera Gómez", "Riverside General Hospital"],
        fee="€22.00",
    ),
    "dog-licence": Script(
        [
            ("microchip", [radio("microchipped", 1)]),
            (
                "dog",
                [
                    text("dog_name", "Luna"),
                    text("breed", "Labrador"),
                    text("chip_number", "941000024681357"),
                ],
            ),
            ("neutered", [radio("neutered", 1)]),  # neutered: the lower fee
            ("address", [address("home_address")]),
            ("contact", contact()),
        ],
        ["animal-welfare"],
        ["Luna", "941000024681357"],
        fee="€12.50",
    ),
    "disabled-parking-badge": Script(
        [
            ("reason", [radio("reason", 1)]),
            ("condition", [text("condition", "I can walk about 50 metres before I must stop.")]),
            ("evidence", [documents("evidence", "doctor-letter.pdf", "clinic-report.png")]),
            ("photo", [document("photo", "face.png")]),
            ("address", [address("home_address")]),
            ("contact", contact()),
        ],
        ["parking"],
        ["doctor-letter.pdf", "clinic-report.png"],
    ),
}


@pytest.fixture(scope="module")
def services_url(
    sandbox_process: Sandbox,
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The portal (and its outbox worker) with the city's catalogue, on a database of its own."""
    database = postgres_database()
    migrate(database)
    with running_portal(sandbox_process, database, tmp_path_factory, "services-portal") as url:
        yield url


@pytest.fixture(scope="module")
def citizens(services_url: str, browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    """One browser profile per language, signed in once (on its first Start now)."""
    contexts: dict[str, BrowserContext] = {}
    escaped: list[str] = []
    for language in USERS:
        context = browser.new_context(base_url=services_url, locale=language)
        watch_for_escaped_tags(context, escaped, True)
        contexts[language] = context
    yield contexts
    for context in contexts.values():
        for page in context.pages:
            look_for_escaped_tag(page, escaped)
        context.close()
    assert not escaped, escaped


def clean(page: Page) -> None:
    assert axe_violations(page) == [], page.url


def go_on(page: Page, step: str) -> None:
    """Press Continue and arrive on `step`."""
    page.locator("main form button.govuk-button:not(.govuk-button--secondary)").last.click()
    expect(page).to_have_url(re.compile(rf"/{re.escape(step)}(\?.*)?$"))


def begin(page: Page, service_id: str, language: str) -> None:
    """From the start page to the first question, signing in if this profile has not yet."""
    page.locator(f'a[href="/services/{service_id}/apply"]').click()
    sign_in = page.get_by_role("button", name=SIGN_IN[language])
    first = CATALOGUE.services[service_id].steps[0].id
    expect(page).to_have_url(re.compile(rf"(/sign-in\?.*|/{re.escape(first)})$"))
    if sign_in.count():
        sign_in.click()
        page.get_by_role("button", name=re.compile(rf"\({USERS[language]}\)")).click()
    expect(page).to_have_url(re.compile(rf"/drafts/d_[0-9a-f]+/{re.escape(first)}$"))


def pay(page: Page) -> None:
    """Continue to payment, pay with the sandbox gateway's good test card, and arrive on the
    receipt (the application is sent once paid)."""
    page.locator('form[action$="/submit"] button').click()
    expect(page).to_have_url(re.compile(r"/payments/card/pay_[0-9a-f]+$"))
    enter_card(page, "4444333322221111")
    expect(page).to_have_url(re.compile(r"/payments/pay_[0-9a-f]+$"))


def delivered(page: Page, sandbox: Sandbox, reference: str, script: Script) -> None:
    """The outbox worker has sent the application to each department of the script (an
    Open311 one: the report with its code and description; an email one: the email)."""
    missing = set(script.departments) | ({"open311"} if script.open311_code else set())
    for _ in range(60):
        for department in sorted(missing - {"open311"}):
            known = CATALOGUE.departments[department]
            if known.contract == "email":  # an office with only a mailbox: its email
                mail = sandbox.mail(to=known.config["address"])
                if any(reference in message["subject"] for message in mail):
                    missing.discard(department)
                continue
            cases = sandbox.cases(department)
            if any(case["request"]["application_reference"] == reference for case in cases):
                missing.discard(department)
        if "open311" in missing:
            reports = httpx.get(f"{sandbox.url}/open311/requests.json").json()
            if any(
                report["service_code"] == script.open311_code
                and report["description"] == script.shows[0]
                for report in reports
            ):
                missing.discard("open311")
        if not missing:
            return
        page.wait_for_timeout(200)  # the worker polls its outbox every 0.2 s
    pytest.fail(f"{reference} did not reach {sorted(missing)}")


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("service_id", sorted(set(SCRIPTS) & set(CATALOGUE.services)))
def test_a_citizen_completes_the_service(
    citizens: dict[str, BrowserContext],
    sandbox_process: Sandbox,
    service_id: str,
    language: str,
) -> None:
    service = CATALOGUE.services[service_id]
    script = SCRIPTS[service_id]
    english = language == "en"
    page = citizens[language].new_page()
    page.goto(f"/services/{service_id}")
    expect(page.locator("html")).to_have_attribute("dir", "ltr" if english else "rtl")
    if english:
        expect(page.locator("h1")).to_have_text(service.title)
        expect(page.locator("main")).to_contain_text(service.cost)
    clean(page)
    begin(page, service_id, language)
    if english:  # an answer left out: the error names what to do
        first = service.steps[0].fields[0]
        if first.errors.required:
            go_on(page, service.steps[0].id)
            expect(page.locator(".govuk-error-summary")).to_contain_text(first.errors.required)
    clean(page)
    for index, (step, actions) in enumerate(script.steps):
        expect(page).to_have_url(re.compile(rf"/{re.escape(step)}(\?.*)?$"))
        if english and index:
            clean(page)
        for act in actions:
            act(page)
        following = script.steps[index + 1][0] if index + 1 < len(script.steps) else "check"
        go_on(page, following)
    for shown in script.shows:
        expect(page.locator("main")).to_contain_text(shown)
    clean(page)
    if script.fee:
        if english:
            expect(page.locator("[data-fd-fee] dd")).to_have_text(script.fee)
        pay(page)
    else:
        page.locator('form[action$="/submit"] button').click()
    panel = page.locator(".govuk-panel")
    expect(panel).to_be_visible()
    clean(page)
    if english and not script.fee:
        expect(page.locator("main")).to_contain_text(service.what_happens_next)
    reference = REFERENCE.search(page.locator("main").inner_text())
    assert reference, page.locator("main").inner_text()
    if english:
        delivered(page, sandbox_process, reference.group(0), script)
    page.close()


@pytest.mark.parametrize(
    ("service_id", "answer"),
    [
        ("school-transport", [radio("district", 1), radio("distance", 1)]),
        ("property-tax-discount", [radio("other_adults", 1)]),
        ("building-work-notice", [address("property_address"), radio("is_owner", 3)]),
    ],
    ids=["school-transport", "property-tax-discount", "building-work-notice"],
)
def test_an_eligibility_answer_ends_the_journey_with_a_reason(
    citizens: dict[str, BrowserContext], service_id: str, answer: list[Action]
) -> None:
    service = CATALOGUE.services[service_id]
    stop = next(step.stop for step in service.steps if step.stop)
    page = citizens["en"].new_page()
    page.goto(f"/services/{service_id}")
    begin(page, service_id, "en")
    steps = [step.id for step in service.steps]
    for index, act in enumerate(answer):
        act(page)
        go_on(page, "stop" if index == len(answer) - 1 else steps[index + 1])
    expect(page.locator("h1")).to_have_text(stop.title)
    expect(page.locator("main")).to_contain_text(stop.body)
    if stop.link_href:
        expect(page.locator(f'main a[href="{stop.link_href}"]')).to_have_text(stop.link_label or "")
    clean(page)
    page.close()


def test_screenshots_of_the_catalogue(citizens: dict[str, BrowserContext]) -> None:
    """The home page, a topic and two start pages, in English and Arabic, for people to look at;
    the list of services shows every service."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for language, context in citizens.items():
        page = context.new_page()
        for name, path in (
            ("home", "/"),
            ("services", "/services"),
            ("topic-housing", "/services/topics/housing"),
            ("start-street-party-permit", "/services/street-party-permit"),
            ("start-school-transport", "/services/school-transport"),
        ):
            page.goto(path)
            page.screenshot(path=str(SHOTS / f"{name}-{language}.png"), full_page=True)
            if name == "services":
                for service_id in CATALOGUE.services:
                    expect(
                        page.locator(f'main a[href="/services/{service_id}"]').first
                    ).to_be_visible()
            clean(page)
        page.close()
