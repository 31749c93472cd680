"""What blocks saving a translation: placeholders dropped or invented, HTML that differs from
the source, a text message that no longer fits, and the wrong number of plural forms."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from portal.i18n import gettext as _
from portal.translations.messages import Message

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
SMS_SEGMENTS = 3  # a message may take up to three text messages, as the source's do


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.other = False  # a comment, a declaration or a processing instruction

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(self.get_starttag_text() or f"<{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(self.get_starttag_text() or f"<{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(f"</{tag}>")

    def handle_comment(self, data: str) -> None:
        self.other = True

    def handle_decl(self, decl: str) -> None:
        self.other = True

    def handle_pi(self, data: str) -> None:
        self.other = True


def tags(text: str) -> list[str] | None:
    """The tags of `text`, attributes and all, in order of name; None when it holds markup
    that is not plain tags (a comment, an unfinished tag, a stray "<")."""
    parser = _Tags()
    parser.feed(text)
    parser.close()
    if parser.other or text.count("<") != len(parser.tags):
        return None
    return sorted(parser.tags)


def formatted(message: Message) -> bool:
    """Whether the text goes through %-formatting when shown: templates always format (Jinja's
    new-style gettext), Python code only when it passes values."""
    source = message.msgid + (message.plural or "")
    return (
        bool(PLACEHOLDER.search(source))
        or "%" in source
        or any(not place.split(":")[0].endswith(".py") for place in message.locations)
    )


def percent_problem() -> str:
    return _(
        "Write a percent sign as %(sign)s so that it is not taken for a placeholder", sign="%%"
    )


def sms_limit(text: str) -> int:
    """Characters that fit in SMS_SEGMENTS concatenated text messages of this alphabet."""
    return SMS_SEGMENTS * (153 if set(text) <= GSM7 else 67)


def problems(message: Message, forms: list[str], expected_forms: int) -> list[str]:
    """Why these forms cannot be saved (empty when they can), in the editor's language."""
    found = []
    if len(forms) != expected_forms or not all(form.strip() for form in forms):
        found.append(_("Enter a translation for every form"))
        return found
    source = set(PLACEHOLDER.findall(message.msgid + (message.plural or "")))
    source_tags = tags(message.msgid)
    for form in forms:
        names = set(PLACEHOLDER.findall(form))
        invented = sorted(names - source)
        dropped = sorted(source - names - ({"num"} if message.plural else set()))
        if invented:
            found.append(
                _("Remove %(names)s: the source has no such placeholder", names=", ".join(invented))
            )
        if dropped:
            found.append(
                _("Keep the placeholder %(names)s from the source", names=", ".join(dropped))
            )
        if formatted(message):
            try:  # a lone % would break the page, and %% must stay as many as in the source
                form % {name: "" for name in names}
                broken = form.count("%%") != message.msgid.count("%%")
            except (ValueError, TypeError, KeyError):
                broken = True
            if broken:
                found.append(percent_problem())
        if tags(form) != source_tags or (source_tags is None and "<" in form):
            found.append(_("Keep the same HTML tags as the source"))
        if message.is_sms and len(form) > sms_limit(form):
            found.append(
                _(
                    "A text message may have at most %(limit)s characters here",
                    limit=sms_limit(form),
                )
            )
    return list(dict.fromkeys(found))


def segments(text: str) -> int:
    """How many text messages `text` takes: 160 characters alone, 153 each when split, in the
    GSM alphabet; 70 and 67 in any other (UCS-2), as Arabic always is."""
    single, part = (160, 153) if set(text) <= GSM7 else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)
