"""The one check of a service definition, as designers read it: every problem at once, each with
its line in the YAML, its place (`steps[3].fields[0].type`) and what to do ("'datee' is not a
field type; did you mean 'date'?").

The same check serves the portal's start (portal.catalogue.loader), the designers' editor
(portal.design) and `python -m portal services check FILE`.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from portal.catalogue import yaml_text
from portal.catalogue.extract import texts_in
from portal.catalogue.models import Department, Service, Topic
from portal.contracts.registry import request_problems

# The one placeholder a definition may hold, in the date rules' own wording.
ALLOWED_PLACEHOLDER = "%(date)s"
NOUNS = {
    "type": "field type",
    "contract": "contract",
    "options_from": "list of DIGIT's master data",
}


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based, in the definition's text
    path: str  # steps[3].fields[0].type
    message: str  # what is wrong and what to do

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


@dataclass(frozen=True)
class CheckResult:
    service: Service | None  # the parsed service when there is no problem
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class _Known(typing.Protocol):
    @property
    def departments(self) -> Mapping[str, Department]: ...

    @property
    def topics(self) -> Mapping[str, Topic]: ...


@dataclass(frozen=True)
class Known:
    """The departments and topics a definition may name (before the catalogue is built)."""

    departments: Mapping[str, Department]
    topics: Mapping[str, Topic]


def path_text(loc: Iterable[int | str]) -> str:
    """('steps', 3, 'fields', 0, 'type') -> steps[3].fields[0].type"""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _child(node: yaml.Node | None, part: int | str) -> tuple[yaml.Node | None, yaml.Node | None]:
    """The value node under `part`, and the key node naming it (mappings)."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if str(key.value) == part:
                return value, key
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], None
    return None, None


def _line(root: yaml.Node | None, loc: Iterable[int | str], key_line: bool = False) -> int | None:
    """The line of the deepest node `loc` reaches (of its key, for a key that is not allowed)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        value, key = _child(node, part)
        if value is None:
            break
        node = value
        line = (key if key_line and key is not None else value).start_mark.line + 1
    return line


def _scalars(node: yaml.Node | None) -> Iterable[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield from _scalars(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)


def _model_at(loc: Iterable[int | str]) -> type[BaseModel] | None:
    """The Pydantic model that reads the mapping at `loc` (for its allowed keys)."""
    model: type[BaseModel] | None = Service
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        model = _inner_model(field.annotation) if field else None
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, tuple, list, typing.Annotated):
        for argument in typing.get_args(annotation):
            found = _inner_model(argument)
            if found is not None:
                return found
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _message(error: Mapping[str, Any]) -> str:
    """Pydantic's error in words a designer acts on."""
    loc = tuple(error["loc"])
    kind, given = error["type"], error.get("input")
    last = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        near = _suggest(last, _allowed_keys(model)) if model else None
        hint = f"; did you mean '{near}'?" if near else ""
        return f"'{last}' is not allowed here{hint}"
    if kind == "missing":
        return f"'{last}' is required"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        noun = NOUNS.get(last, last.replace("_", " "))
        near = _suggest(str(given), choices)
        if near:
            return f"'{given}' is not a {noun}; did you mean '{near}'?"
        return f"'{given}' is not a {noun}; choose one of: {', '.join(choices)}"
    if kind == "string_pattern_mismatch":
        return (
            f"'{given}' is not a valid {last.replace('_', ' ')}: use lowercase letters, digits "
            "and hyphens (ids of questions: underscores), starting with a letter"
        )
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _validator_line(root: yaml.Node | None, loc: tuple[Any, ...], message: str) -> int | None:
    """A rule broken across a mapping (a field id used twice, a condition on a later field):
    the line of the last value the message names, else the mapping's."""
    node: yaml.Node | None = root
    for part in loc:
        node, _key = _child(node, part)
    named = re.findall(r"'([^']+)'", message)
    for word in reversed(named):
        hits = [scalar for scalar in _scalars(node) if str(scalar.value) == word]
        if hits:
            return hits[-1].start_mark.line + 1
    return _line(root, loc)


def _parse(source: str) -> tuple[Any, yaml.Node | None, Problem | None]:
    try:
        root = yaml_text.compose(source)
        data = yaml_text.load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        what = getattr(error, "problem", None) or str(error)
        return None, None, Problem(mark.line + 1 if mark else None, "", f"not valid YAML: {what}")
    return data, root, None


def _cross_checks(service: Service, root: yaml.Node | None, known: _Known) -> Iterable[Problem]:
    """What one file cannot know alone: the topics and departments the city has."""
    if service.topic not in known.topics:
        near = _suggest(service.topic, known.topics)
        hint = f"; did you mean '{near}'?" if near else f"; topics: {', '.join(known.topics)}"
        yield Problem(_line(root, ("topic",)), "topic", f"unknown topic '{service.topic}'{hint}")
    for index, delivery in enumerate(service.deliver_to):
        where = ("deliver_to", index, "department")
        department = known.departments.get(delivery.department)
        if department is None:
            near = _suggest(delivery.department, known.departments)
            hint = f"; did you mean '{near}'?" if near else ""
            yield Problem(
                _line(root, where),
                path_text(where),
                f"unknown department '{delivery.department}'{hint}",
            )
        else:
            for inside, why in request_problems(department.contract, delivery.request):
                inner: tuple[int | str, ...] = ("deliver_to", index, "request")
                inner += (inside,) if inside else ()
                yield Problem(_line(root, inner), path_text(inner), f"{delivery.department}: {why}")
    if service.cost_source and service.cost_source not in known.departments:
        yield Problem(
            _line(root, ("cost_source",)),
            "cost_source",
            f"unknown department '{service.cost_source}'",
        )


def _unknown_departments(
    data: dict[str, Any], root: yaml.Node | None, known: _Known
) -> Iterable[Problem]:
    """Departments named, read from the text itself when the rest does not parse yet (so
    they are reported with the other problems, not after them are fixed)."""
    deliveries = data.get("deliver_to")
    for index, delivery in enumerate(deliveries if isinstance(deliveries, list) else []):
        name = delivery.get("department") if isinstance(delivery, dict) else None
        if isinstance(name, str) and name not in known.departments:
            where = ("deliver_to", index, "department")
            near = _suggest(name, known.departments)
            hint = f"; did you mean '{near}'?" if near else ""
            yield Problem(
                _line(root, where), path_text(where), f"unknown department '{name}'{hint}"
            )


def _placeholders(source: str) -> Iterable[Problem]:
    """Texts are shown through gettext's %-formatting: a stray % breaks the page."""
    for line, text in texts_in(source):
        if "%" in text.replace(ALLOWED_PLACEHOLDER, ""):
            yield Problem(
                line,
                "",
                f"'{text[:60]}' holds '%': write 'per cent' instead (texts take no placeholders "
                f"other than {ALLOWED_PLACEHOLDER} in the date rules' wording)",
            )


def check_definition(
    source: str, catalogue: _Known | None = None, *, file_name: str | None = None
) -> CheckResult:
    """Every problem of a definition's YAML, with its line; the service when there is none.
    With `catalogue`, its topics and departments are checked too; with `file_name`, the id
    must match it."""
    data, root, broken = _parse(source)
    if broken is not None:
        return CheckResult(None, (broken,))
    if not isinstance(data, dict):
        return CheckResult(None, (Problem(1, "", "a definition is a mapping of keys (id: ...)"),))
    problems: list[Problem] = list(_placeholders(source))
    try:
        service = Service.model_validate(data)
    except ValidationError as error:
        errors = error.errors()
        failed = [tuple(item["loc"]) for item in errors]
        for item in errors:
            loc = tuple(item["loc"])
            if item["type"] == "too_short" and any(
                len(other) > len(loc) and other[: len(loc)] == loc for other in failed
            ):
                continue  # emptied by the errors inside it, reported on their own

            message = _message(item)
            if item["type"] == "value_error":
                line = _validator_line(root, loc, message)
            else:
                line = _line(root, loc, key_line=item["type"] == "extra_forbidden")
            problems.append(Problem(line, path_text(loc), message))
        if catalogue is not None:
            problems.extend(_unknown_departments(data, root, catalogue))
        return CheckResult(None, tuple(sorted(problems, key=lambda p: p.line or 0)))
    if file_name is not None and service.id != file_name:
        problems.append(
            Problem(_line(root, ("id",)), "id", f"'{service.id}' must match the file name")
        )
    if catalogue is not None:
        problems.extend(_cross_checks(service, root, catalogue))
    ordered = tuple(sorted(problems, key=lambda p: p.line or 0))
    return CheckResult(None if ordered else service, ordered)


def schema() -> dict[str, Any]:
    """The definition format as JSON Schema, for designers' own editors (committed as
    definitions/service.schema.json and served at /services/schema.json)."""
    found = Service.model_json_schema(by_alias=True)
    found["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    found["title"] = "Front Door service definition"
    return found
