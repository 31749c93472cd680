"""Services are data: checked at start with the file and field named, browsable and searchable."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from portal.applications.references import new_reference, parse_reference
from portal.catalogue.extract import texts_in
from portal.catalogue.loader import CatalogueError, load_catalogue
from portal.settings import ROOT

DEFINITIONS = ROOT / "portal" / "catalogue" / "definitions"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, target)
    return target


def test_the_flagship_services_are_defined_as_the_issue_asks() -> None:
    catalogue = load_catalogue(DEFINITIONS)
    business = catalogue.services["open-business"]
    questions = [field for step in business.steps for field in step.fields]
    assert len(questions) >= 12
    assert any(step.repeat for step in business.steps)
    assert any(field.type == "file" for field in questions)
    conditional = {d.department for d in business.deliver_to if d.when}
    assert {"environment", "employer", "licensing"} <= conditional
    report = catalogue.services["report-a-problem"]
    assert [d.department for d in report.deliver_to] == ["public-works", "sanitation"]


def test_a_mistake_in_a_definition_names_the_file_and_the_field(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "services" / "report-a-problem.yaml"
    path.write_text(path.read_text().replace("type: textarea", "type: paragraph"))
    with pytest.raises(CatalogueError) as error:
        load_catalogue(folder)
    message = str(error.value)
    assert "report-a-problem.yaml:" in message and "steps[2].fields[0].type" in message
    assert "'paragraph' is not a field type" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("department: public-works", "department: roads"), r"deliver_to\[0\]\.department"),
        (("topic: streets", "topic: roads"), "topic"),
        (("id: report-a-problem", "id: report"), "must match the file name"),
        (("      - id: description\n", "      - id: category\n"), "used twice"),
    ],
)
def test_cross_checks_refuse_unknown_names(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    folder = _copy(tmp_path)
    path = folder / "services" / "report-a-problem.yaml"
    path.write_text(path.read_text().replace(*change, 1))
    with pytest.raises(CatalogueError, match=expected):
        load_catalogue(folder)


def test_every_text_of_a_definition_goes_to_the_translators() -> None:
    texts = {
        text for _, text in texts_in((DEFINITIONS / "services" / "open-business.yaml").read_text())
    }
    assert "What is the name of your business?" in texts  # a label
    assert "A partnership" in texts  # an option
    assert "Enter the name of your business" in texts  # an error
    assert "open-business" not in texts and "business_name" not in texts  # ids are not texts


def test_references_are_checked_and_forgiving() -> None:
    reference = new_reference()
    assert parse_reference(reference) == reference
    assert parse_reference(reference.lower().replace("-", " ")) == reference
    body = reference.replace("-", "")[2:]
    swapped = body[:3] + ("1" if body[3] != "1" else "2") + body[4:]
    assert parse_reference(swapped) is None  # one wrong character is caught
    assert parse_reference("FD-0000-000") is None


def test_browse_search_and_start_page(web: Any) -> None:
    index = web.get("/services")
    assert index.status_code == 200
    assert "Business and work" in index.text and "Open a business" in index.text
    found = web.get("/services", params={"q": "POTHOLE"})
    assert "Report a problem in the street" in found.text and "1 service found" in found.text
    none = web.get("/services", params={"q": "zzzz"})
    assert "0 services found" in none.text
    start = web.get("/services/open-business")
    assert "Start now" in start.text and "Employment office" in start.text
    assert web.get("/services/no-such-service").status_code == 404
    assert web.get("/services/topics/business").status_code == 200


def test_starting_a_service_asks_to_sign_in_first(web: Any) -> None:
    response = web.get("/services/open-business/apply", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/services/open-business/apply"


RESULT_LINK = re.compile(r'<h3[^>]*><a class="govuk-link" href="([^"]+)">([^<]+)</a></h3>')


def results(web: Any, query: str, language: str = "en") -> dict[str, str]:
    """The search results' titles, each with where its link goes."""
    web.get(f"/language/{language}")
    page = web.get("/services", params={"q": query}).text
    found = page.split('role="search"', 1)[1].split('<h2 class="govuk-heading-l">', 1)[0]
    return {title: href for href, title in RESULT_LINK.findall(found)}


@pytest.mark.parametrize(
    ("language", "query", "title"),
    [
        ("en", "parking fine", "Pay a bill or a fine"),
        ("es", "multa", "Pagar una factura o una multa"),
        ("ar", "غرامة", "دفع فاتورة أو غرامة"),
    ],
)
def test_paying_a_bill_is_found_like_any_service_and_goes_to_its_page(
    web: Any, language: str, query: str, title: str
) -> None:
    found = results(web, query, language)
    assert found.get(title) == "/pay-a-bill", found
    assert web.get(found[title]).status_code == 200


def test_pages_that_are_not_journeys_are_in_their_topics_and_on_the_home_page(web: Any) -> None:
    catalogue = load_catalogue(DEFINITIONS)
    assert catalogue.links, "the catalogue lists pages that are not journeys"
    for link in catalogue.links.values():
        topic = web.get(f"/services/topics/{link.topic}").text
        assert f'href="{link.href}">{link.title}</a>' in topic, link.id
        assert web.get(link.href).status_code == 200, link.href
        assert f'href="{link.href}">{link.title}</a>' in web.get("/services").text
    assert 'href="/pay-a-bill">Pay a bill or a fine</a>' in web.get("/").text
    for other in ("accessibility", "contact"):
        assert results(web, other), f"searching {other!r} finds nothing"
