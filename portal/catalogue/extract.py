"""Babel extractor for the catalogue's YAML: every human text becomes a message to translate.

babel.cfg maps `portal/catalogue/definitions/**.yaml` to `extract_definitions`, so `make extract`
puts service texts in the same catalogue as the portal's (and editors see where each is used).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

from portal.catalogue import yaml_text

# Keys whose string values (or lists of strings) are shown to people.
TEXT_KEYS = frozenset(
    {
        "title",
        "summary",
        "description",
        "keywords",
        "you_need",
        "eligibility",
        "duration",
        "cost",
        "declaration",
        "what_happens_next",
        "label",
        "hint",
        "required",
        "invalid",
        "too_early",
        "too_late",
        "body",
        "link_label",
        "item_label",
        "add_another",
        "name",
    }
)


# Keys whose values name fields or values, never words for people (`request: {description: x}`).
CODE_KEYS = frozenset({"request", "open311", "when", "answers", "deliver_to"})


def _texts(node: yaml.Node, key: str | None) -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if str(key_node.value) not in CODE_KEYS:
                yield from _texts(value, str(key_node.value))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _texts(item, key)
    elif isinstance(node, yaml.ScalarNode) and key in TEXT_KEYS and node.tag.endswith(":str"):
        yield node.start_mark.line + 1, str(node.value)


def texts_in(source: str) -> list[tuple[int, str]]:
    """(line, text) for every translatable text of one definition file."""
    node = yaml_text.compose(source)
    return list(_texts(node, None)) if node is not None else []


def extract_definitions(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """The Babel extraction method for definition files."""
    for line, text in texts_in(fileobj.read().decode("utf-8")):
        yield line, "gettext", text, []
