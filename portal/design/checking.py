"""Checking a definition before it is saved, submitted or published.

portal.catalogue.check (being written alongside) is the one checker; until it is there, a
smaller one here reads the YAML, the schema and the departments and topics named, with the
same result's shape, so the store and its callers do not change when it lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Service


@dataclass(frozen=True)
class Problem:
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


@dataclass(frozen=True)
class CheckResult:
    service: Service | None
    problems: tuple[Any, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _local_check(source: str, catalogue: Catalogue | None) -> CheckResult:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return CheckResult(None, (Problem(mark.line + 1 if mark else None, "", str(error)),))
    try:
        service = Service.model_validate(data)
    except ValidationError as error:
        return CheckResult(
            None,
            tuple(
                Problem(None, ".".join(str(part) for part in item["loc"]), item["msg"])
                for item in error.errors()
            ),
        )
    problems: list[Problem] = []
    if catalogue is not None:
        if service.topic not in catalogue.topics:
            problems.append(Problem(None, "topic", f"unknown topic {service.topic!r}"))
        for index, delivery in enumerate(service.deliver_to):
            if delivery.department not in catalogue.departments:
                problems.append(
                    Problem(
                        None,
                        f"deliver_to[{index}].department",
                        f"unknown department {delivery.department!r}",
                    )
                )
    return CheckResult(None if problems else service, tuple(problems))


def check(source: str, catalogue: Catalogue | None) -> Any:
    """The definition's problems (none: `.service` is the parsed service)."""
    try:
        from portal.catalogue.check import check_definition  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return _local_check(source, catalogue)
    return check_definition(source, catalogue)


def problem_text(problem: Any) -> str:
    """One problem as a designer reads it: its line, its place and what to do."""
    line = getattr(problem, "line", None)
    path = getattr(problem, "path", "")
    message = getattr(problem, "message", str(problem))
    where = f"line {line}: " if line else ""
    return f"{where}{path}: {message}" if path else f"{where}{message}"
