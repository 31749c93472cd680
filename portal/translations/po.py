"""PO files in and out, so that a translation agency or a Weblate/Pontoon instance can work on a
language: the export is the compiled catalogue with the published changes in it; an import is
checked whole (syntax, language, every changed text) and becomes drafts, or changes nothing."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import PoFileError, read_po, write_po

from portal.i18n import gettext as _
from portal.translations.checks import problems
from portal.translations.messages import Message, Messages, message_key

# What a line of a PO file may be: blank, a comment, a keyword with a quoted string, or the
# quoted continuation of one. Babel's reader forgives more than that; an import must not.
LINE = re.compile(
    r'^\s*(#.*|(msgctxt|msgid|msgid_plural|msgstr(\[\d+\])?)\s+"(\\.|[^"\\])*"|"(\\.|[^"\\])*")?\s*$'
)


@dataclass(frozen=True)
class Change:
    message: Message
    line: int
    before: list[str]
    after: list[str]


def export_po(locales_dir: Path, language: str, served: dict[str, list[str]]) -> bytes:
    """The language's catalogue as served now: `served` maps message keys to published texts."""
    with (locales_dir / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    for entry in catalogue:
        if not entry.id:
            continue
        msgid = str(entry.id[0]) if entry.pluralizable else str(entry.id)
        forms = served.get(message_key(msgid, entry.context))
        if forms is not None:
            entry.string = tuple(forms) if entry.pluralizable else forms[0]
            entry.flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, catalogue, width=0)
    return out.getvalue()


def read_import(
    data: bytes,
    language: str,
    messages: Messages,
    served: dict[str, list[str]],
    plural_forms: int,
) -> tuple[list[Change], list[str]]:
    """The changes a PO file brings, or why it is refused (each reason with its line)."""
    errors: list[str] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], [_("The file is not a PO file in UTF-8")]
    for number, line in enumerate(text.splitlines(), start=1):
        if not LINE.match(line):
            errors.append(_("Line %(line)s: this is not PO syntax", line=number))
    if errors:
        return [], errors[:20]
    try:
        catalogue = read_po(io.BytesIO(data), abort_invalid=True)
    except PoFileError as error:
        return [], [_("Line %(line)s: this is not PO syntax", line=error.lineno)]
    found = str(catalogue.locale) if catalogue.locale else ""
    if found.split("_")[0] != language:
        return [], [_("The file is for %(found)s, not for this language", found=found or "?")]
    changes = []
    for entry in catalogue:
        if not entry.id:
            continue
        msgid = str(entry.id[0]) if entry.pluralizable else str(entry.id)
        message = messages.by_key.get(message_key(msgid, entry.context))
        if message is None:
            errors.append(_("Line %(line)s: no such message", line=entry.lineno))
            continue
        string = entry.string
        forms = [str(t or "") for t in (string if isinstance(string, (list, tuple)) else [string])]
        before = served.get(message.key, [""])
        if not any(form.strip() for form in forms) or forms == before:
            continue  # untranslated in the file, or unchanged: nothing to review
        count = plural_forms if message.plural else 1
        for problem in problems(message, forms, count):
            errors.append(_("Line %(line)s: %(problem)s", line=entry.lineno, problem=problem))
        changes.append(Change(message, entry.lineno or 0, before, forms))
    return (changes, []) if not errors else ([], errors[:50])
