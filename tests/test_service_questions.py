"""Questions about a service, asked of the assistant in any of the city's languages, are
answered from the service's start page in that language, with its link; what the page does not
say is not made up."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from conftest import ROOT
from portal.conversations.service_questions import answer, asked
from portal.i18n import current_locale
from portal.i18n import gettext as _
from portal.i18n.catalogue import load_catalogues
from portal.i18n.locale import use_locale
from portal.settings import SANDBOX_BOT_SECRET
from tests.test_services_catalogue import CATALOGUE, find_service_reply

BOT = {"Authorization": f"Bearer {SANDBOX_BOT_SECRET}"}


def in_language(language: str, message: str, **variables: Any) -> str:
    """A portal text as the portal words it in `language` (the tests' own language kept)."""
    load_catalogues(ROOT / "locales")
    before = current_locale()
    use_locale(language)
    try:
        return _(message, **variables)
    finally:
        use_locale(before)


OPEN_BUSINESS_COST = (
    "The trade licensing office tells you the licence fee after it has checked your "
    "application. Registering for tax and as an employer is free."
)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "how much is a trade licence?"),
        ("es", "¿cuánto cuesta abrir un negocio?"),
        ("ar", "كم تكلفة فتح نشاط تجاري؟"),
    ],
)
def test_what_it_costs_is_read_from_its_page(
    portal: Any, database_url: str, language: str, said: str
) -> None:
    text = find_service_reply(portal, database_url, said, language)
    assert text.splitlines()[0] == in_language(language, "Open a business")
    assert in_language(language, OPEN_BUSINESS_COST) in text
    link = "http://127.0.0.1:8000/services/open-business"
    assert text.splitlines()[-1] == in_language(language, "More on its page: %(link)s", link=link)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "what do I need to open a business?"),
        ("es", "¿qué necesito para abrir un negocio?"),
        ("ar", "ماذا أحتاج لفتح نشاط تجاري؟"),
    ],
)
def test_what_you_need_is_listed(portal: Any, database_url: str, language: str, said: str) -> None:
    text = find_service_reply(portal, database_url, said, language)
    lines = text.splitlines()
    assert lines[1] == in_language(language, "You will need:")
    premises = "the name and address of the business premises"
    assert f"- {in_language(language, premises)}" in lines


def test_how_long_who_can_apply_and_which_departments(portal: Any, database_url: str) -> None:
    reply = partial(find_service_reply, portal, database_url)
    text = reply("how long does it take to open a business?")
    assert "Most applications are decided within 10 working days." in text
    text = reply("¿quién puede abrir un negocio?", "es")
    assert f"- {in_language('es', 'You must be 18 or over.')}" in text.splitlines()
    text = reply("which departments are involved when I open a business?")
    lines = text.splitlines()
    assert "You fill in one application. We send it to:" in lines
    assert "- Trade licensing office" in lines
    assert "- Environment department (only if your answers need it)" in lines


def test_what_the_page_does_not_say_is_not_made_up() -> None:
    """Every service of the city's catalogue says who can apply; one that did not is not
    answered with a guess."""
    use_locale("en")  # a turn before may have left its conversation's language
    service = CATALOGUE.services["street-light-fault"].model_copy(update={"eligibility": ()})
    text = answer(CATALOGUE, "https://city.example", service, ["eligibility"])
    link = "https://city.example/services/street-light-fault"
    assert text.splitlines() == [
        "Report a street light fault",
        f"Its page does not say who can apply. Read it here: {link}",
        f"More on its page: {link}",
    ]


def test_a_request_is_not_taken_for_a_question() -> None:
    for said in ("I want to open a shop", "necesito registrar mi empresa", "أريد فتح مطعم"):
        assert asked(said) == []
    assert asked("كم يستغرق الترخيص؟") == ["duration"]  # how long, not how much
