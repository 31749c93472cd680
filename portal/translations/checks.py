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
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(f"</{tag}>")


def tags(text: str) -> list[str]:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return sorted(parser.tags)


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
        try:  # a message with placeholders is %-formatted: a lone % would break it
            if source:
                form % {name: "" for name in names}
        except (ValueError, TypeError, KeyError):
            found.append(
                _(
                    "Write a percent sign as %(sign)s so that it is not taken for a placeholder",
                    sign="%%",
                )
            )
        if tags(form) != source_tags:
            found.append(_("Keep the same HTML tags as the source"))
        if message.is_sms and len(form) > sms_limit(form):
            found.append(
                _(
                    "A text message may have at most %(limit)s characters here",
                    limit=sms_limit(form),
                )
            )
    return list(dict.fromkeys(found))
