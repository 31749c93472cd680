"""The README and docs/ are a newcomer's guide to this repository: every link and path they give
leads to something in it, and they quote no figure that a test run does not keep true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.settings import ROOT

GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
OUTSIDE = re.compile(r"`(\.\./[^`]+)`|\]\((\.\./[^)]+)\)")
# What goes stale with every commit: how many tests there are and how long they take.
FIGURES = re.compile(r"\b\d+ tests\b|minutes once installed|on a \d-core machine|ms of CPU")


def test_the_repository_has_its_own_architecture_and_operations_docs() -> None:
    names = {path.name for path in GUIDES}
    assert {
        "architecture.md",
        "operations.md",
        "adding-a-service.md",
        "adding-a-backend.md",
    } <= names


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_every_link_leads_to_a_file_of_the_repository(guide: Path) -> None:
    text = guide.read_text(encoding="utf-8")
    assert not OUTSIDE.findall(text), "a path outside the repository"
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):  # http(s): the services' own sites
            continue
        resolved = (guide.parent / target).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), target


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_no_figure_that_goes_stale(guide: Path) -> None:
    assert not FIGURES.search(guide.read_text(encoding="utf-8"))
