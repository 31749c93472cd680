"""The building blocks of service definitions (issue 18, item 7), each usable from the YAML
alone: an eligibility question that ends the journey, a date with earliest/latest, several
documents, a delivery choice with a conditional address, a department chosen by an answer."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from litestar.testing import TestClient
from pydantic import ValidationError

from conftest import Sandbox, migrate
from portal.catalogue.extract import texts_in
from portal.catalogue.loader import load_catalogue
from portal.catalogue.models import FieldDef, Service
from portal.forms import engine
from portal.forms.fields import read_field, shown
from portal.i18n.formatting import (
    DEFAULT_DATE_LOCALES,
    DEFAULT_TIME_ZONE,
    city_zone,
    configure_dates,
)
from portal.i18n.locale import use_locale
from tests.blocks_support import BLOCKS, blocks_catalogue
from tests.conftest import PortalFactory
from tests.journey_support import PDF, PNG, answer, case_of, reference_of, run_worker
from tests.support import csrf_token, sign_in_as

SOURCE = (BLOCKS / "blocks-permit.yaml").read_text()
DEFINITION: dict[str, Any] = yaml.safe_load(SOURCE)


@pytest.fixture(autouse=True)
def city_defaults() -> Iterator[None]:
    configure_dates(DEFAULT_DATE_LOCALES, DEFAULT_TIME_ZONE)
    yield
    use_locale("en")


def _service(change: Any = None) -> Service:
    data = copy.deepcopy(DEFINITION)
    if change:
        change(data)
    return Service.model_validate(data)


def _step(data: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(step for step in data["steps"] if step["id"] == step_id)


def _refused(change: Any) -> str:
    with pytest.raises(ValidationError) as error:
        _service(change)
    return str(error.value)


# The definition: every new key checked, with a message that says what to do.


def test_the_test_service_uses_every_block() -> None:
    service = _service()
    first = service.steps[0]
    assert first.stop and first.stop.link_href == "/pay-a-bill"
    fields = service.fields()
    assert (fields["collection_date"].earliest, fields["collection_date"].latest) == (2, 90)
    assert fields["proofs"].max_files == 3 and fields["proofs"].many_files
    assert not FieldDef(id="photo", type="file", label="Photo").many_files


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: _step(d, "live-in-city")["stop"]["when"].update(field="district"),
            "stop.when names 'district', which neither this step nor an earlier one asks",
        ),
        (
            lambda d: _step(d, "live-in-city")["stop"].pop("link_href"),
            "give both link_label and link_href, or neither",
        ),
        (
            lambda d: _step(d, "live-in-city")["stop"].update(link_href="javascript:alert(1)"),
            "give a page of the portal starting with /",
        ),
        (
            lambda d: _step(d, "live-in-city")["stop"].update(link_href="//elsewhere.example"),
            "is not a link we can offer",
        ),
        (lambda d: _step(d, "live-in-city")["stop"].pop("body"), "body"),
        (
            lambda d: _step(d, "collection-date")["fields"][0].update(earliest=10, latest=2),
            "earliest (10) is after latest (2)",
        ),
        (
            lambda d: _step(d, "collection-date")["fields"][0].update(past_only=True),
            "use either past_only or earliest/latest, not both",
        ),
        (
            lambda d: _step(d, "contact")["fields"][0].update(latest=3),
            "earliest and latest are for date fields only",
        ),
        (
            lambda d: _step(d, "collection-date")["fields"][0].update(
                errors={"too_early": "Too soon"}
            ),
            "errors.too_early must say where the date goes with %(date)s",
        ),
        (
            lambda d: _step(d, "documents")["fields"][0].update(max_files=21),
            "less than or equal to 20",
        ),
        (
            lambda d: _step(d, "documents")["fields"][0].update(max_files=0),
            "greater than or equal to 1",
        ),
        (
            lambda d: _step(d, "contact")["fields"][0].update(max_files=2),
            "max_files is for file fields only",
        ),
        (
            lambda d: _step(d, "documents").update(
                title="Documents",
                fields=[
                    *_step(d, "documents")["fields"],
                    {"id": "note", "type": "text", "label": "Note"},
                ],
            ),
            "must be the only field of its step",
        ),
        (lambda d: _step(d, "district").update(id="stop"), "step ids must be unique and none of"),
        (
            lambda d: _step(d, "district")["fields"][0]["options"].append(
                {"value": "east", "label": "East"}
            ),
            "no department receives the application when 'district' is 'east': add a deliver_to",
        ),
        (
            lambda d: _step(d, "district")["fields"][0].update(required=False),
            "no department receives the application when 'district' is not answered",
        ),
    ],
)
def test_a_wrong_new_key_is_refused_with_what_to_do(change: Any, message: str) -> None:
    assert message in _refused(change)


def test_departments_that_all_depend_on_other_things_are_not_second_guessed() -> None:
    """Only one choice question deciding alone is checked; a department always sent, or
    conditions on several questions, pass."""

    def always_tax(data: dict[str, Any]) -> None:
        _step(data, "district")["fields"][0]["options"].append({"value": "east", "label": "E"})
        data["deliver_to"].append({"department": "environment"})

    def two_questions(data: dict[str, Any]) -> None:
        _step(data, "district")["fields"][0]["options"].append({"value": "east", "label": "E"})
        data["deliver_to"].append(
            {"department": "environment", "when": {"field": "delivery", "equals": "post"}}
        )

    assert len(_service(always_tax).deliver_to) == 3
    assert len(_service(two_questions).deliver_to) == 3


def test_the_new_texts_go_to_the_translators_and_links_and_rules_do_not() -> None:
    texts = {text for _, text in texts_in(SOURCE)}
    assert {
        "You cannot apply for a resident parking permit",
        "Only people who live in the city can get a resident permit.",
        "Apply for a visitor permit",
    } <= texts
    assert "/pay-a-bill" not in texts and "no" not in texts and "north" not in texts
    with_wording = SOURCE.replace(
        "        earliest: 2\n",
        "        earliest: 2\n        errors: {too_early: 'Choose %(date)s or later'}\n",
    )
    assert "Choose %(date)s or later" in {text for _, text in texts_in(with_wording)}


# The engine: where the journey goes.


def test_a_stop_ends_the_journey_until_the_answer_changes() -> None:
    service = _service()
    answers: dict[str, Any] = {"lives_here": "no"}
    assert engine.stopping_step(service, answers) is service.steps[0]
    assert engine.step_after(service, answers, "live-in-city") == engine.STOP
    assert engine.next_to_answer(service, answers) == engine.STOP
    assert engine.step_before(service, answers, engine.STOP) == "live-in-city"
    assert engine.is_beyond_stop(service, answers, "collection-date")
    assert engine.is_beyond_stop(service, answers, engine.CHECK)
    assert not engine.is_beyond_stop(service, answers, "live-in-city")
    answers["lives_here"] = "yes"
    assert engine.stopping_step(service, answers) is None
    assert engine.step_after(service, answers, "live-in-city") == "collection-date"


def test_the_address_is_asked_only_for_post_and_the_district_picks_the_department() -> None:
    service = _service()
    shown_for = {
        choice: [s.id for s in engine.visible_steps(service, {"delivery": choice})]
        for choice in ("collect", "post", "email")
    }
    assert "postal-address" in shown_for["post"] and "email-address" not in shown_for["post"]
    assert "email-address" in shown_for["email"] and "postal-address" not in shown_for["email"]
    assert not {"postal-address", "email-address"} & set(shown_for["collect"])
    # A changed mind drops the address from what is sent.
    kept = engine.relevant_answers(
        service, {"delivery": "collect", "postal_address": {"label": "1 Main St"}}
    )
    assert "postal_address" not in kept
    for district, department in (("north", "trade-licence"), ("south", "tax")):
        chosen = engine.deliveries(service, {"district": district})
        assert [d.department for d in chosen] == [department]


def test_several_documents_are_found_wherever_they_are_in_the_answers() -> None:
    one = {"document": "doc_1", "filename": "a.pdf"}
    two = {"document": "doc_2", "filename": "b.png"}
    answers = {"proofs": [one, two], "photo": {"document": "doc_3"}, "name": "Ana"}
    assert [d["document"] for d in engine.documents_in(answers)] == ["doc_1", "doc_2", "doc_3"]
    proofs = _service().fields()["proofs"]
    assert shown(proofs, [one, two]) == "a.pdf, b.png"
    assert shown(proofs, one) == "a.pdf"  # a single upload reads as before


# Dates: the city's today, the real date in the reader's language.


def _date_form(day: date) -> dict[str, list[Any]]:
    return {
        "collection_date-day": [str(day.day)],
        "collection_date-month": [str(day.month)],
        "collection_date-year": [str(day.year)],
    }


@pytest.mark.parametrize(
    ("language", "early", "late"),
    [
        (
            "en",
            "The date must be on or after 8 December 2026",
            "The date must be on or before 6 March 2027",
        ),
        ("es", "8 de diciembre de 2026", "6 de marzo de 2027"),
        ("ar", "8 ديسمبر 2026", "6 مارس 2027"),
    ],
)
def test_a_date_outside_its_range_names_the_first_or_last_day(
    language: str, early: str, late: str
) -> None:
    field = _service().fields()["collection_date"]
    today = date(2026, 12, 6)
    use_locale(language)
    too_early = read_field(field, _date_form(today + timedelta(days=1)), today=today)
    too_late = read_field(field, _date_form(today + timedelta(days=91)), today=today)
    assert too_early.error and early in too_early.error
    assert too_late.error and late in too_late.error
    for days in (2, 90):
        inside = read_field(field, _date_form(today + timedelta(days=days)), today=today)
        assert inside.error is None and inside.value == (today + timedelta(days=days)).isoformat()


def test_a_date_range_in_the_past_and_a_definitions_own_wording() -> None:
    data = copy.deepcopy(DEFINITION)
    field_data = _step(data, "collection-date")["fields"][0]
    field_data.update(
        earliest=-30,
        latest=-1,
        errors={"too_late": "The collection date must be on or before %(date)s"},
    )
    field = Service.model_validate(data).fields()["collection_date"]
    today = date(2026, 12, 6)
    reading = read_field(field, _date_form(today), today=today)
    assert reading.error == "The collection date must be on or before 5 December 2026"
    assert read_field(field, _date_form(date(2026, 11, 6)), today=today).error is None


def test_today_is_the_citys_day() -> None:
    """Without a date given, the rule counts from today in FRONTDOOR_TIME_ZONE."""
    field = _service().fields()["collection_date"]
    city_today = datetime.now(city_zone()).date()
    assert read_field(field, _date_form(city_today + timedelta(days=2))).error is None
    assert read_field(field, _date_form(city_today + timedelta(days=1))).error


# Through the portal: a signed-in citizen with the test service in the catalogue.


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    """A database of these tests' own: the session's shared one must not keep applications of
    a service only this catalogue has (other suites' workers would try to deliver them)."""
    url = fresh_database(request.param)
    migrate(url)
    return url


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    return blocks_catalogue(tmp_path / "catalogue")


@pytest.fixture
def omar(
    portal_factory: PortalFactory, own_database: str, catalogue_dir: Path
) -> Iterator[TestClient[Any]]:
    client = portal_factory(database_url=own_database, catalogue_dir=catalogue_dir)
    assert sign_in_as(client, "omar").status_code == 303
    yield client


def _start(client: TestClient[Any]) -> str:
    """A fresh draft of the test service; its /drafts/<id> path."""
    response = client.get("/services/blocks-permit/apply", follow_redirects=False)
    base = re.sub(r"(/drafts/d_[0-9a-f]+)/.*", r"\1", response.headers["location"])
    token = csrf_token(client.get("/applications").text)
    client.post(f"{base}/delete", data={"_csrf_token": token})
    response = client.get("/services/blocks-permit/apply", follow_redirects=False)
    base = re.sub(r"(/drafts/d_[0-9a-f]+)/.*", r"\1", response.headers["location"])
    assert response.headers["location"] == f"{base}/live-in-city"
    return base


def _in(days: int) -> dict[str, str]:
    day = datetime.now(city_zone()).date() + timedelta(days=days)
    return {
        "collection_date-day": str(day.day),
        "collection_date-month": str(day.month),
        "collection_date-year": str(day.year),
    }


def _upload(
    client: TestClient[Any], base: str, name: str, content: bytes, action: str = "upload"
) -> httpx.Response:
    kind = "application/pdf" if name.endswith(".pdf") else "image/png"
    files = {"proofs": (name, content, kind)}
    return answer(client, f"{base}/documents", {"action": action}, files)


def test_a_no_to_the_eligibility_question_ends_the_journey_on_the_server_too(
    omar: TestClient[Any],
) -> None:
    base = _start(omar)
    response = answer(omar, f"{base}/live-in-city", {"lives_here": "no"})
    assert response.headers["location"] == f"{base}/stop"
    page = omar.get(f"{base}/stop")
    assert page.status_code == 200
    html = page.text
    assert "<h1" in html and "You cannot apply for a resident parking permit" in html
    assert "Only people who live in the city can get a resident permit." in html
    assert 'href="/pay-a-bill"' in html and "Apply for a visitor permit" in html
    assert f'href="{base}/live-in-city"' in html and "Change your answer" in html
    # Nothing after it opens: not by address, not by posting, not the check page, not sending.
    for path in ("collection-date", "documents", "check"):
        moved = omar.get(f"{base}/{path}", follow_redirects=False)
        assert moved.headers["location"] == f"{base}/stop", path
    posted = omar.post(
        f"{base}/district",
        data={"_csrf_token": csrf_token(html), "district": "north"},
        follow_redirects=False,
    )
    assert posted.headers["location"] == f"{base}/stop"
    sent = omar.post(
        f"{base}/submit", data={"_csrf_token": csrf_token(html)}, follow_redirects=False
    )
    assert sent.headers["location"] == f"{base}/stop"
    # Resuming from the start page lands on the stop page too.
    resumed = omar.get("/services/blocks-permit/apply", follow_redirects=False)
    assert resumed.headers["location"] == f"{base}/stop"
    # Changing the answer opens the journey again.
    response = answer(omar, f"{base}/live-in-city", {"lives_here": "yes"})
    assert response.headers["location"] == f"{base}/collection-date"
    gone = omar.get(f"{base}/stop", follow_redirects=False)
    assert gone.headers["location"] == f"{base}/collection-date"


def test_a_date_outside_the_range_says_the_real_date(omar: TestClient[Any]) -> None:
    base = _start(omar)
    answer(omar, f"{base}/live-in-city", {"lives_here": "yes"})
    page = omar.get(f"{base}/collection-date").text
    assert "The date must be between" in page  # the range is in the hint
    response = answer(omar, f"{base}/collection-date", _in(1))
    assert response.status_code == 400
    assert "The date must be on or after" in response.text
    response = answer(omar, f"{base}/collection-date", _in(91))
    assert response.status_code == 400 and "The date must be on or before" in response.text
    response = answer(omar, f"{base}/collection-date", _in(2))
    assert response.headers["location"] == f"{base}/delivery"


def _to_documents(client: TestClient[Any], base: str, delivery: str = "collect") -> None:
    steps: list[tuple[str, dict[str, Any]]] = [
        ("live-in-city", {"lives_here": "yes"}),
        ("collection-date", _in(10)),
        ("delivery", {"delivery": delivery}),
    ]
    if delivery == "post":
        steps.append(
            ("postal-address", {"postal_address-line1": "4 Mill Lane", "postal_address-town": "X"})
        )
    steps.append(("district", {"district": "south"}))
    for step, data in steps:
        response = answer(client, f"{base}/{step}", data)
        assert response.status_code == 303, (step, response.text[:2000])


def test_several_documents_one_at_a_time_with_remove(omar: TestClient[Any]) -> None:
    base = _start(omar)
    _to_documents(omar, base)
    # Required: Continue with nothing is an error; so is 'Upload file' with nothing chosen.
    none = answer(omar, f"{base}/documents", {})
    assert none.status_code == 400 and "Select a file" in none.text
    nothing = answer(omar, f"{base}/documents", {"action": "upload"})
    assert nothing.status_code == 400 and "Select a file" in nothing.text
    assert _upload(omar, base, "lease.pdf", PDF).headers["location"] == f"{base}/documents"
    assert _upload(omar, base, "bill.png", PNG).headers["location"] == f"{base}/documents"
    page = omar.get(f"{base}/documents").text
    assert "2 files uploaded" in page and "lease.pdf" in page and "bill.png" in page
    assert "Upload another file" in page
    wrong = _upload(omar, base, "notes.pdf", b"just text")
    assert wrong.status_code == 400 and "must be a PDF, JPG or PNG" in wrong.text
    assert "lease.pdf" in wrong.text  # the list stays on the page with the error
    # Remove the first; a second press of the same button changes nothing.
    remove = re.search(r'action="([^"]+/files/([^"/]+)/remove)"', page)
    assert remove
    token = csrf_token(page)
    for _ in range(2):
        removed = omar.post(remove.group(1), data={"_csrf_token": token}, follow_redirects=False)
        assert removed.headers["location"] == f"{base}/documents"
    page = omar.get(f"{base}/documents").text
    assert "lease.pdf" not in page and "bill.png" in page
    # The third, chosen and sent with Continue, is kept and the journey goes on.
    response = _upload(omar, base, "id.pdf", PDF, action="")
    assert response.headers["location"] == f"{base}/contact"
    assert _upload(omar, base, "more.pdf", PDF).status_code == 303
    full = omar.get(f"{base}/documents").text
    assert "You cannot add any more files." in full and 'type="file"' not in full
    over = _upload(omar, base, "four.pdf", PDF)
    assert over.status_code == 400 and "You can upload 3 files at most" in over.text
    response = answer(omar, f"{base}/contact", {"contact_name": "Omar Haddad"})
    assert response.headers["location"] == f"{base}/check"
    check = omar.get(f"{base}/check").text
    listed = re.search(r'<ul class="govuk-list">(.*?)</ul>', check, re.S)
    assert listed and re.findall(r"<bdi[^>]*>([^<]+)</bdi>", listed.group(1)) == [
        "bill.png",
        "id.pdf",
        "more.pdf",
    ]


def test_post_asks_an_address_and_the_district_picks_the_only_department(
    omar: TestClient[Any],
    sandbox: Sandbox,
    make_settings: Any,
    own_database: str,
    catalogue_dir: Path,
) -> None:
    base = _start(omar)
    _to_documents(omar, base, delivery="post")
    _upload(omar, base, "lease.pdf", PDF)
    assert _upload(omar, base, "bill.png", PNG, action="").status_code == 303
    answer(omar, f"{base}/contact", {"contact_name": "Omar Haddad"})
    check = omar.get(f"{base}/check").text
    assert "4 Mill Lane" in check and "By post" in check
    sent = omar.post(
        f"{base}/submit", data={"_csrf_token": csrf_token(check)}, follow_redirects=False
    )
    reference = reference_of(sent)
    shown_page = omar.get(f"/applications/{reference}").text
    assert "Documents you sent" in shown_page
    assert "<bdi>lease.pdf</bdi>" in shown_page and "<bdi>bill.png</bdi>" in shown_page
    run_worker(make_settings(database_url=own_database, catalogue_dir=catalogue_dir))
    case = case_of(sandbox, "tax", reference)  # south
    data = case["request"]["data"]
    assert data["delivery"] == "post" and data["postal_address"]["line1"] == "4 Mill Lane"
    assert [item["filename"] for item in data["proofs"]] == ["lease.pdf", "bill.png"]
    assert len(case["request"]["documents"]) == 2
    north = [
        c
        for c in sandbox.cases("trade-licence")
        if c["request"]["application_reference"] == reference
    ]
    assert north == []


def test_collect_skips_the_address(omar: TestClient[Any]) -> None:
    base = _start(omar)
    _to_documents(omar, base, delivery="collect")
    assert "postal-address" not in omar.get(f"{base}/documents").text
    moved = omar.get(f"{base}/postal-address", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] != f"{base}/postal-address"


def test_every_definition_in_the_repository_still_loads() -> None:
    """The new keys are optional: the city's own definitions load as before."""
    from portal.settings import ROOT

    load_catalogue(ROOT / "portal" / "catalogue" / "definitions")
