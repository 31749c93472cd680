"""Messages the bot is not asked about, because there is nothing in them it could understand:
an empty one, or one too long to be a request. The portal answers them itself, shortly, in the
conversation's language (a new conversation's is the city's default), so a citizen never meets
silence. A photo or a place alone does go to the bot (it may be the answer it asked for)."""

from __future__ import annotations

from portal.i18n import gettext as _

MAX_LENGTH = 1000  # characters: the web chat refuses longer ones in its form


def answer_without_bot(text: str, *, media: bool) -> str | None:
    """The portal's own short answer to the citizen's `text`, or None to ask the bot."""
    if not text.strip() and not media:
        return _("Your message was empty. Tell me in a few words what you need.")
    if len(text) > MAX_LENGTH:
        return _(
            "Your message is too long for me. Tell me in a few words (at most %(max)s "
            "characters) what you need.",
            max=MAX_LENGTH,
        )
    return None
