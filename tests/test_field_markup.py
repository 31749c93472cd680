"""The journey's questions are written out in GOV.UK Frontend's markup for speed; this holds every
variant equal to what govuk-frontend-jinja's own macros render (tests/govuk_reference keeps the
macro-built templates), so a design-system upgrade or a slip in our markup shows here."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import Environment

from portal.catalogue.models import FieldDef, Option
from portal.i18n.catalogue import load_catalogues, plural_texts
from portal.i18n.locale import use_locale
from portal.journeys.pages import FieldView
from portal.settings import ROOT
from portal.web.templating import build_environment

OPTIONS = (Option(value="a", label="Yes", hint="Day"), Option(value="b", label="No"))
DRAFT = SimpleNamespace(public_id="d_0123456789abcdef0123")


class _Tree(HTMLParser):
    """Elements, attributes (order and spacing ignored) and text (spacing collapsed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        words = {name: " ".join(sorted((value or "").split())) for name, value in attrs}
        self.nodes.append(("start", tag, sorted(words.items())))

    def handle_endtag(self, tag: str) -> None:
        self.nodes.append(("end", tag))

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not text:
            return
        if self.nodes and self.nodes[-1][0] == "text":
            text = f"{self.nodes.pop()[1]} {text}"
        self.nodes.append(("text", text))


def _tree(html: str) -> list[tuple[Any, ...]]:
    parser = _Tree()
    parser.feed(html)
    parser.close()
    return parser.nodes


def _environment(templates: Path) -> Environment:
    settings = SimpleNamespace(templates_dir=templates, env="test")
    env = build_environment(settings, SimpleNamespace(url=lambda path: f"/static/{path}"))  # type: ignore[arg-type]
    env.globals["plural_texts"] = plural_texts
    return env


def _answers(kind: str) -> Any:
    return {
        "radios": "a",
        "select": "b",
        "checkboxes": ["a", "b"],
        "yes_no": "no",
        "date": "2020-03-04",
        "file": {"filename": "lease <1>.pdf"},
    }.get(kind, "Ana & Co <b>")


def _typed(kind: str) -> dict[str, Any]:
    """What the citizen typed when the answer was refused."""
    if kind == "date":
        return {"day": "31", "month": "2", "year": "20x"}
    if kind == "checkboxes":
        return {"value": ["b"]}
    return {} if kind == "file" else {"value": "typed <b>"}


def _questions() -> Iterator[tuple[str, FieldView, bool]]:
    kinds = [
        *("text", "email", "phone", "number", "money", "textarea", "radios"),
        *("checkboxes", "select", "yes_no", "date", "file"),
    ]
    flags = itertools.product([True, False], [None, "A hint"], [None, "Fix <this>"], [0, 1])
    for kind, (heading, hint, error, answered) in itertools.product(kinds, flags):
        field = FieldDef(
            id="f_x",
            type=kind,  # type: ignore[arg-type]
            label="Name & number",
            hint=hint,
            options=OPTIONS if kind in ("radios", "checkboxes", "select") else (),
            max_length=500 if kind == "textarea" and hint else None,
            autocomplete="email" if kind == "email" else None,
            width=20 if kind == "phone" else None,
        )
        view = FieldView(field, _answers(kind) if answered else None, {}, None)
        if error:
            view = FieldView(field, view.value, _typed(kind), error)
        yield (
            f"{kind} heading={heading} hint={hint} error={error} answered={answered}",
            view,
            heading,
        )


def _addresses() -> Iterator[tuple[str, FieldView, bool]]:
    found = [{"id": "addr-1", "label": "Calle A 1"}, {"id": "addr-2", "label": "Calle <2>"}]
    given = {"id": "addr-0027", "label": "Plaza de España 3"}
    typed = {"line1": "Behind <the> shed", "town": "Sevilla", "manual": True, "label": "Behind"}
    states: list[tuple[str, Any, dict[str, Any], str | None]] = [
        ("nothing yet", None, {}, None),
        ("found and kept", given, {}, None),
        ("typed and kept", typed, {}, None),
        ("two found", None, {"query": "calle a", "results": found}, None),
        ("one found, none chosen", None, {"query": "calle", "results": found[:1]}, "Choose one"),
        ("none found", None, {"query": "zzz", "results": []}, "Enter an address"),
        ("search down", None, {"query": "zzz", "lookup_failed": True}, None),
        ("typed, refused", None, {"line1": "x", "town": "", "postcode": "41001"}, "Enter a town"),
    ]
    for heading, hint, (state, value, raw, error) in itertools.product(
        [True, False], [None, "Where it is"], states
    ):
        field = FieldDef(id="place", type="address", label="Where", hint=hint)
        yield (
            f"address {state} heading={heading} hint={hint}",
            FieldView(field, value, raw, error),
            heading,
        )


CASES = [*_questions(), *_addresses()]


@pytest.fixture(scope="module")
def templates() -> tuple[Environment, Environment]:
    load_catalogues(ROOT / "locales")
    return _environment(ROOT / "templates"), _environment(ROOT / "tests" / "govuk_reference")


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_question_is_marked_up_as_the_design_system_renders_it(
    templates: tuple[Environment, Environment], language: str
) -> None:
    ours, reference = (
        env.from_string(
            '{% from "journeys/_field.html" import renderField %}'
            "{{ renderField(view, heading, draft) }}"
        )
        for env in templates
    )
    use_locale(language)
    try:
        pages = [
            (name, ours.render(view=view, heading=heading, draft=DRAFT))
            for name, view, heading in CASES
        ]
        expected = [
            reference.render(view=view, heading=heading, draft=DRAFT) for _, view, heading in CASES
        ]
    finally:
        use_locale("en")
    assert len(CASES) > 200
    assert [
        name
        for (name, html), want in zip(pages, expected, strict=True)
        if _tree(html) != _tree(want)
    ] == []
    # Browsers forgive attributes run together (value="x"hx-post=...); validators do not.
    assert [name for name, html in pages if re.search(r"=\"[^\"]*\"[a-z]", html)] == []
