"""The structured outline of a definition beside its editor: pages, questions, conditions, stops,
fee and departments, each with the line of the definition where it is written, so a designer
reading the outline goes straight to the text that makes it."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from portal.catalogue.models import Condition, Service


@dataclass(frozen=True)
class Item:
    kind: str  # page, question, department, fee
    text: str  # the English title, label or department id
    line: int | None
    detail: str = ""  # the field type, "optional", the amount
    condition: Condition | None = None
    stop: Condition | None = None
    children: list[Item] = field(default_factory=list)


def _lines(source: str) -> dict[tuple[str | int, ...], int]:
    """(path) -> 1-based line of each mapping in the definition (steps, fields, deliver_to)."""
    found: dict[tuple[str | int, ...], int] = {}
    try:
        root = yaml.compose(source)
    except yaml.YAMLError:
        return found

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        found[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))

    if root is not None:
        walk(root, ())
    return found


def outline(service: Service, source: str) -> list[Item]:
    """The service's parts in the order a citizen meets them, then where it goes."""
    lines = _lines(source)
    items: list[Item] = []
    for s, step in enumerate(service.steps):
        questions = [
            Item(
                "question",
                question.label,
                lines.get(("steps", s, "fields", f)),
                question.type if question.required else f"{question.type}, optional",
            )
            for f, question in enumerate(step.fields)
        ]
        items.append(
            Item(
                "page",
                step.heading_text,
                lines.get(("steps", s)),
                step.id,
                condition=step.when,
                stop=step.stop.when if step.stop else None,
                children=questions,
            )
        )
    if service.fee is not None:
        items.append(Item("fee", service.fee.description, lines.get(("fee",)), service.fee.amount))
    for d, delivery in enumerate(service.deliver_to):
        items.append(
            Item(
                "department",
                delivery.department,
                lines.get(("deliver_to", d)),
                condition=delivery.when,
            )
        )
    return items
