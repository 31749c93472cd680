"""Choices kept in step with DIGIT's master data (MDMS): a question marked
`options_from: mdms-complaint-types` or `options_from: mdms-localities` gets DIGIT's codes as
its values and DIGIT's English names as its labels, written into a draft that is reviewed and
published like any other version (four eyes).

DIGIT is read only when a designer asks: citizens' pages read the options written in the
published version and never wait on DIGIT. Everything DIGIT says is read before anything is
written, so DIGIT down or answering badly leaves every version as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.digit import DigitClient
from backend_clients.http import BackendError, BackendRejected, BackendUnavailable
from portal.audit import AuditLog
from portal.design import store
from portal.design.models import ServiceVersion
from portal.i18n import gettext as _

COMPLAINT_TYPES = "mdms-complaint-types"
LOCALITIES = "mdms-localities"
SOURCES = (COMPLAINT_TYPES, LOCALITIES)
# An option's value (portal.catalogue.models.Option): DIGIT codes that do not fit are left out.
VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
LABEL_LIMIT = 2000


class MasterDataError(Exception):
    """DIGIT could not give its master data; the message is for the designer (translated)."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FieldChange:
    """What a refresh does to one question's options."""

    field_id: str
    label: str
    source: str
    added: list[Choice] = field(default_factory=list)
    removed: list[Choice] = field(default_factory=list)
    renamed: list[tuple[Choice, Choice]] = field(default_factory=list)  # (before, after)
    left_out: list[str] = field(default_factory=list)  # DIGIT codes that cannot be values

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.renamed)


@dataclass(frozen=True)
class Refresh:
    """The draft written (None when the options already matched DIGIT) and what changed."""

    version: ServiceVersion | None
    changes: list[FieldChange]


@dataclass(frozen=True)
class _Field:
    node: yaml.MappingNode
    field_id: str
    label: str
    source: str


def _scalar(node: yaml.MappingNode, key: str) -> str | None:
    for name, value in node.value:
        if name.value == key and isinstance(value, yaml.ScalarNode):
            return str(value.value)
    return None


def _mappings(node: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    if isinstance(node, yaml.MappingNode):
        yield node
        for _key, value in node.value:
            yield from _mappings(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _mappings(item)


def _marked(source: str) -> list[_Field]:
    """The questions of a definition that take their options from DIGIT, in order."""
    try:
        root = yaml.compose(source)
    except yaml.YAMLError:
        return []
    found = []
    for node in _mappings(root):
        origin, field_id = _scalar(node, "options_from"), _scalar(node, "id")
        if origin is not None and origin in SOURCES and field_id:
            found.append(_Field(node, field_id, _scalar(node, "label") or field_id, origin))
    return found


def fields_from(source: str) -> list[tuple[str, str]]:
    """(question id, list) of every question that takes its options from DIGIT."""
    return [(item.field_id, item.source) for item in _marked(source)]


def _options_of(node: yaml.MappingNode) -> list[dict[str, Any]]:
    for key, value in node.value:
        if key.value == "options" and isinstance(value, yaml.SequenceNode):
            loaded = yaml.safe_load(yaml.serialize(value))
            return [item for item in loaded or [] if isinstance(item, dict)]
    return []


def _clean(text: str) -> str:
    return " ".join(text.split())[:LABEL_LIMIT]


async def _read(client: DigitClient, source: str) -> tuple[list[Choice], list[str]]:
    """DIGIT's choices for one list, and the codes left out (they cannot be values)."""
    if source == COMPLAINT_TYPES:
        types = sorted(
            await client.complaint_types(active_only=True),
            key=lambda item: (item.order is None, item.order or 0, item.service_code),
        )
        pairs = [(item.service_code, item.name or item.service_code) for item in types]
    else:
        pairs = [(item.code, item.name or item.code) for item in await client.localities()]
    choices, left_out = [], []
    for code, name in pairs:
        if VALUE.fullmatch(code) and _clean(name):
            choices.append(Choice(code, _clean(name)))
        else:
            left_out.append(code)
    return list({choice.value: choice for choice in choices}.values()), left_out


async def read_master_data(
    client: DigitClient, sources: set[str]
) -> dict[str, tuple[list[Choice], list[str]]]:
    """Every list asked for, or MasterDataError with what to tell the designer."""
    found = {}
    try:
        for source in sorted(sources):
            found[source] = await _read(client, source)
    except BackendUnavailable:
        raise MasterDataError(
            _(
                "DIGIT could not be reached or did not answer in time. Nothing has changed: "
                "try again in a few minutes."
            )
        ) from None
    except BackendRejected:
        raise MasterDataError(
            _(
                "DIGIT refused to give its master data. Nothing has changed: ask DIGIT's "
                "administrators to check the portal's access to MDMS."
            )
        ) from None
    except BackendError:
        raise MasterDataError(
            _(
                "DIGIT's answer was not what the portal expects. Nothing has changed: tell "
                "DIGIT's administrators."
            )
        ) from None
    for source, (choices, _left_out) in found.items():
        if len(choices) < 2:
            what = _("complaint types") if source == COMPLAINT_TYPES else _("localities")
            raise MasterDataError(
                _(
                    "DIGIT gave fewer than two active %(what)s for %(tenant)s: a question needs "
                    "at least two options. Nothing has changed.",
                    what=what,
                    tenant=client.tenant_id,
                )
            )
    return found


def _block(choices: list[Choice], hints: dict[str, str], column: int) -> str:
    pad = " " * column
    lines = []
    for choice in choices:
        lines.append(f"{pad}- value: {_plain(choice.value)}")
        lines.append(f"{pad}  label: {_plain(choice.label)}")
        if choice.value in hints:
            lines.append(f"{pad}  hint: {_plain(hints[choice.value])}")
    return "\n".join(lines)


def _plain(text: str) -> str:
    """`text` as a YAML scalar in block context (quoted only when it must be)."""
    dumped = yaml.safe_dump(text, allow_unicode=True, width=1_000_000)
    return dumped.removesuffix("\n...\n").removesuffix("\n")


def _flow(choices: list[Choice], hints: dict[str, str]) -> str:
    items = []
    for choice in choices:
        parts = [
            f"value: {json.dumps(choice.value)}",
            f"label: {json.dumps(choice.label, ensure_ascii=False)}",
        ]
        if choice.value in hints:
            parts.append(f"hint: {json.dumps(hints[choice.value], ensure_ascii=False)}")
        items.append("{" + ", ".join(parts) + "}")
    return "[" + ", ".join(items) + "]"


def _line_end(source: str, index: int) -> int:
    end = source.find("\n", index)
    return len(source) if end < 0 else end


def _rewritten(source: str, item: _Field, choices: list[Choice], hints: dict[str, str]) -> str:
    """The definition with this question's options replaced, every other character kept."""
    options = next(((k, v) for k, v in item.node.value if k.value == "options"), None)
    if options is None:  # none yet: written under options_from
        key = next(k for k, _v in item.node.value if k.value == "options_from")
        at = _line_end(source, key.end_mark.index)
        column = key.start_mark.column
        listed = _block(choices, hints, column + 2)
        return f"{source[:at]}\n{' ' * column}options:\n{listed}{source[at:]}"
    key, value = options
    if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
        last = max(
            (node.end_mark.index for node in _scalars(value)), default=value.start_mark.index
        )
        start = value.start_mark.index - value.start_mark.column
        end = _line_end(source, last)
        listed = _block(choices, hints, value.start_mark.column)
        return source[:start] + listed + source[end:]
    # Written inline ([...]) or empty: an inline list in its place, on the key's line.
    inline = value.start_mark.line == key.start_mark.line
    stop = value.end_mark.index if inline else _line_end(source, key.end_mark.index)
    return source[: key.end_mark.index] + ": " + _flow(choices, hints) + source[stop:]


def _scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield from _scalars(value)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _scalars(child)


def apply(
    source: str, lists: dict[str, tuple[list[Choice], list[str]]]
) -> tuple[str, list[FieldChange]]:
    """The definition with DIGIT's options in every marked question, and what changed."""
    changes = []
    # From the end, so that the places found in the text stay true as it changes.
    for item in reversed(_marked(source)):
        choices, left_out = lists[item.source]
        before = _options_of(item.node)
        hints = {str(o["value"]): str(o["hint"]) for o in before if o.get("hint") and "value" in o}
        old = {str(o.get("value")): str(o.get("label", "")) for o in before}
        new = {choice.value: choice.label for choice in choices}
        source = _rewritten(source, item, choices, hints)
        changes.append(
            FieldChange(
                field_id=item.field_id,
                label=item.label,
                source=item.source,
                added=[choice for choice in choices if choice.value not in old],
                removed=[Choice(value, label) for value, label in old.items() if value not in new],
                renamed=[
                    (Choice(choice.value, old[choice.value]), choice)
                    for choice in choices
                    if choice.value in old and old[choice.value] != choice.label
                ],
                left_out=left_out,
            )
        )
    _verify(source, lists)
    return source, list(reversed(changes))


def _verify(source: str, lists: dict[str, tuple[list[Choice], list[str]]]) -> None:
    """The text reads back with exactly DIGIT's options (else nothing is written)."""
    for item in _marked(source):
        got = [(str(o.get("value")), str(o.get("label"))) for o in _options_of(item.node)]
        wanted = [(choice.value, choice.label) for choice in lists[item.source][0]]
        if got != wanted:
            raise MasterDataError(
                _(
                    "The options of %(field)s could not be written into the definition. "
                    "Nothing has changed: write them as a list under options.",
                    field=item.field_id,
                )
            )


async def refresh(
    db: AsyncSession,
    service_id: str,
    author: str,
    client: DigitClient,
    *,
    audit: AuditLog,
) -> Refresh:
    """Read DIGIT's lists for the newest version's marked questions and write them into a
    draft; nothing is written when DIGIT fails or the options already match. Audited."""
    every = await store.versions(db, service_id)
    if not every:
        raise store.DesignError(_("There is no service called %(id)s", id=service_id))
    newest = every[0]
    subject = f"service:{service_id}"
    wanted = {item.source for item in _marked(newest.source)}
    if not wanted:
        raise MasterDataError(
            _(
                "No question of this service takes its options from DIGIT: mark a radios or "
                "select question with options_from: mdms-complaint-types or "
                "options_from: mdms-localities first."
            )
        )
    try:
        lists = await read_master_data(client, wanted)
        source, changes = apply(newest.source, lists)
    except MasterDataError as error:
        await audit.record(
            "service_options_refresh_failed",
            actor=author,
            subject=subject,
            version=newest.number,
            reason=str(error),
        )
        raise
    if source == newest.source:
        await audit.record(
            "service_options_refreshed", actor=author, subject=subject, version=None, changed=0
        )
        return Refresh(None, changes)
    draft = await store.draft_with(db, service_id, source, author, "digit", audit=audit)
    await audit.record(
        "service_options_refreshed",
        actor=author,
        subject=subject,
        version=draft.number,
        based_on=newest.number,
        fields={
            change.field_id: {
                "from": change.source,
                "added": [choice.value for choice in change.added],
                "removed": [choice.value for choice in change.removed],
                "renamed": [after.value for _before, after in change.renamed],
            }
            for change in changes
        },
    )
    return Refresh(draft, changes)
