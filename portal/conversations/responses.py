"""The bot's fixed replies: Rasa names them (utter_*), the portal words them from its own
translation catalogue, so an editor's published change reaches the bot and the web at once.
Rasa answers with the names (its domain's texts are the names themselves) and the gateway words
them; POST /bot/nlg words one for an engine that asks for each text."""

from __future__ import annotations

from portal.i18n import lazy_gettext as _l

CAN_DO = _l(
    "I can find a service, tell you where your application is, help you report a problem in "
    "the street, send you a link to pay a bill or fee, or put you through to a person."
)

RESPONSE_PREFIX = "utter_"
RESPONSES = {
    "utter_greet": _l("Hello, I am the City of Riverside's assistant."),
    "utter_help": _l("Tell me what you need, in your own words."),
    "utter_goodbye": _l("Goodbye. Write to us again whenever you need."),
    "utter_thank": _l("You're welcome. Can I help with anything else?"),
    "utter_anything_else": _l("All right. What else can I do for you?"),
}
# Followed by what the bot can do, so that no answer is a dead end.
WITH_CAN_DO = {"utter_greet", "utter_help"}
SWITCH_HINT = _l("To change language, write LANGUAGE.")


def render(response: str) -> str | None:
    """The text of a fixed reply in the current language, or None for an unknown id."""
    text = RESPONSES.get(response)
    if text is None:
        return None
    if response in WITH_CAN_DO:
        parts = [str(text), str(CAN_DO)]
        if response == "utter_greet":
            parts.append(str(SWITCH_HINT))
        return " ".join(parts)
    return str(text)
