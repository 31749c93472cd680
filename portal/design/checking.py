"""Checking a definition before it is saved, submitted or published: the one checker,
portal.catalogue.check, as the designers' store calls it."""

from __future__ import annotations

from portal.catalogue.check import CheckResult, Problem, check_definition
from portal.catalogue.loader import Catalogue


def check(source: str, catalogue: Catalogue | None) -> CheckResult:
    """The definition's problems (none: `.service` is the parsed service)."""
    return check_definition(source, catalogue)


def problem_text(problem: Problem) -> str:
    """One problem as a designer reads it: its line, its place and what to do."""
    return str(problem)


__all__ = ["CheckResult", "Problem", "check", "problem_text"]
