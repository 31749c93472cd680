"""The city's catalogue (issue 18, item 8): a dozen real services written only as definitions,
each reaching departments the sandbox serves, found on the home page, in their topics, by search
and by the assistant's suggestions."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from sqlalchemy import insert

from backend_clients.sandbox.departments import DEPARTMENTS
from backend_clients.sandbox.open311 import SERVICE_NAMES
from conftest import run_async
from portal.catalogue.extract import texts_in
from portal.catalogue.loader import load_catalogue
from portal.catalogue.search import suggest
from portal.conversations.models import Conversation
from portal.settings import ROOT, SANDBOX_BOT_SECRET
from tests.journey_support import execute
from tests.test_catalogue import results

BOT = {"Authorization": f"Bearer {SANDBOX_BOT_SECRET}"}

DEFINITIONS = ROOT / "portal" / "catalogue" / "definitions"
CATALOGUE = load_catalogue(DEFINITIONS)


def test_the_city_offers_at_least_a_dozen_services_across_topics() -> None:
    assert len(CATALOGUE.services) >= 12
    topics = {service.topic for service in CATALOGUE.services.values()}
    assert len(topics) >= 7
    for service in CATALOGUE.services.values():
        assert service.title[0].isupper() and not service.title.endswith(".")
        assert service.summary.endswith(".") and service.what_happens_next.endswith(".")
        for step in service.steps:
            for question in step.fields:
                if question.required and question.type not in ("file",):
                    assert question.errors.required, f"{service.id}: {question.id}"


def test_every_department_is_served_by_the_sandbox() -> None:
    """A department in departments.yaml that the sandbox did not know would fail every
    delivery of the services sent to it."""
    for department in CATALOGUE.departments.values():
        if department.contract == "department":
            assert department.id in DEPARTMENTS, department.id
            assert DEPARTMENTS[department.id].pushes == department.pushes, department.id


def test_open311_services_send_only_codes_the_endpoint_knows() -> None:
    for service in CATALOGUE.services.values():
        for delivery in service.deliver_to:
            if CATALOGUE.departments[delivery.department].contract != "open311":
                continue
            assert delivery.request is not None
            question = service.fields()[delivery.request["service_code"]]
            assert {option.value for option in question.options} <= set(SERVICE_NAMES)


def test_texts_hold_no_stray_percent_sign() -> None:
    """Templates format every text with %: a lone % (like "25% off") breaks the page."""
    for path in sorted((DEFINITIONS / "services").glob("*.yaml")):
        for line, text in texts_in(path.read_text(encoding="utf-8")):
            assert "%" not in text.replace("%(date)s", ""), f"{path.name}:{line}: {text}"


def test_services_that_charge_first_say_so_and_pay_their_department() -> None:
    """The fee is paid before sending: its department receives the application, and the start
    page's cost says that you pay when you apply."""
    charged = {s.id: s for s in CATALOGUE.services.values() if s.fee is not None}
    assert {"resident-parking-permit", "bulky-waste-collection"} <= set(charged)
    assert {"birth-certificate-copy", "dog-licence"} <= set(charged)
    for service in charged.values():
        assert service.fee is not None
        departments = {delivery.department for delivery in service.deliver_to}
        assert service.fee.department in departments, service.id
        assert "You pay when" in service.cost, service.id


def test_the_home_page_and_every_topic_list_the_services(web: Any) -> None:
    home = web.get("/").text
    popular = [service for service in CATALOGUE.services.values() if service.popular]
    assert 3 <= len(popular) <= 6  # a few, not the whole catalogue
    for service in CATALOGUE.services.values():
        assert (f'href="/services/{service.id}"' in home) == service.popular, service.id
    for topic in CATALOGUE.topics.values():
        assert f'href="/services/topics/{topic.id}"' in home, topic.id
    listing = web.get("/services").text
    for service in CATALOGUE.services.values():
        assert f'href="/services/{service.id}"' in listing, service.id
    for topic in CATALOGUE.topics.values():
        page = web.get(f"/services/topics/{topic.id}")
        assert page.status_code == 200
        for entry in CATALOGUE.in_topic(topic.id):
            assert f'href="{entry.href}"' in page.text, (topic.id, entry.id)
    listing = web.get("/services").text
    for topic in CATALOGUE.topics.values():
        assert f'href="/services/topics/{topic.id}"' in listing, topic.id


@pytest.mark.parametrize(
    ("query", "service_id"),
    [
        ("parking", "resident-parking-permit"),
        ("parking", "disabled-parking-badge"),
        ("sofa", "bulky-waste-collection"),
        ("birth certificate", "birth-certificate-copy"),
        ("dog", "dog-licence"),
        ("noise", "noise-complaint"),
        ("street light", "street-light-fault"),
        ("school bus", "school-transport"),
        ("extension", "building-work-notice"),
        ("street party", "street-party-permit"),
        ("market stall", "market-stall-licence"),
        ("water", "water-connection"),
        ("birth", "register-a-birth"),
        ("property tax", "property-tax-discount"),
    ],
)
def test_search_finds_the_new_services(web: Any, query: str, service_id: str) -> None:
    found = results(web, query)
    assert f"/services/{service_id}" in found.values(), (query, found)


def test_start_pages_name_every_department(web: Any) -> None:
    page = web.get("/services/street-party-permit").text
    for name in ("Police events team", "Roads and highways", "Fire and rescue service"):
        assert name in page
    assert re.search(r"Fire and rescue service\s*\(only if your answers need it\)", page)
    school = web.get("/services/school-transport").text
    assert "Schools office, North district" in school and "Schools office, South district" in school


@pytest.mark.parametrize(
    ("sentence", "service_id"),
    [
        ("my neighbour plays loud music every night", "noise-complaint"),
        ("how do I get a bus pass for my child's school", "school-transport"),
        ("I want to close my street for a party", "street-party-permit"),
        ("I live alone, can I pay less property tax?", "property-tax-discount"),
    ],
)
def test_the_assistant_suggests_the_right_service(sentence: str, service_id: str) -> None:
    """suggest() ranks among all the services, not only the first two."""
    assert suggest(CATALOGUE, sentence)[0].id == service_id


@pytest.mark.parametrize(
    ("said", "offered"),
    [
        ("I want a parking permit for my street", ["resident-parking-permit"]),
        ("zzzz qqqq", [s.id for s in CATALOGUE.services.values() if s.popular][:3]),
    ],
)
def test_the_assistant_offers_the_matching_service_or_else_the_popular_ones(
    portal: Any, database_url: str, said: str, offered: list[str]
) -> None:
    text = find_service_reply(portal, database_url, said)
    linked = re.findall(r"/services/([a-z0-9-]+)", text)
    assert linked[: len(offered)] == offered


def find_service_reply(portal: Any, database_url: str, said: str, language: str = "en") -> str:
    """The assistant's answer when the bot classes `said` as finding a service, in a new web
    chat conversation in `language`."""
    key = secrets.token_hex(16)
    chat = {"key": key, "channel": "web", "address": key, "language": language, "status": "bot"}
    run_async(execute(database_url, insert(Conversation).values(**chat)))
    turn = {
        "next_action": "action_find_service",
        "sender_id": key,
        "tracker": {"latest_message": {"text": said}},
    }
    answer = portal.post("/bot/actions", json=turn, headers=BOT)
    assert answer.status_code == 200, answer.text
    [text] = [response["text"] for response in answer.json()["responses"]]
    return str(text)
