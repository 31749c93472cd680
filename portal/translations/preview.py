"""An editor's preview of a translation before anyone reviews it. The typed text is kept in the
editor's own session; on the portal's public pages the editor then opens, that one message reads
as typed, in the translation's language, until they end the preview. Nobody else sees it, and
nothing is saved."""

from __future__ import annotations

from typing import Any

from litestar import Request

from portal.i18n.catalogue import catalogue_key, preview
from portal.translations.checks import PLACEHOLDER
from portal.translations.messages import Message

SESSION_KEY = "translation_preview"
# Example values for placeholders, so that a preview reads like a real message.
SAMPLES = {"reference": "FD-7K3M-9QX2", "num": "3", "count": "3", "code": "482913"}


def start(
    request: Request[Any, Any, Any], language: str, message: Message, forms: list[str]
) -> None:
    """Remember the typed forms in the editor's session for the pages they open next."""
    shown = {
        "language": language,
        "key": message.key,
        "catalogue_key": catalogue_key(message.msgid, message.context),
        "forms": forms,
    }
    request.set_session({**request.session, SESSION_KEY: shown})


def end(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    """Stop the preview; what was previewed, if anything."""
    shown = request.session.get(SESSION_KEY)
    request.set_session({k: v for k, v in request.session.items() if k != SESSION_KEY})
    return shown if isinstance(shown, dict) else None


def apply(request: Request[Any, Any, Any]) -> None:
    """Serve this request with the editor's previewed text, when there is one (public pages
    only: the editors' own area stays in their language)."""
    session = request.scope.get("session")
    shown = session.get(SESSION_KEY) if isinstance(session, dict) else None
    if shown and not request.url.path.startswith("/staff/"):
        preview(shown["language"], shown["catalogue_key"], list(shown["forms"]))
    else:
        preview(None)


def as_sent(text: str, public_url: str) -> str:
    """`text` with example values in its placeholders, as a citizen would read it."""
    samples = {**SAMPLES, "link": f"{public_url}/applications"}

    def sample(match: Any) -> str:
        name = match.group(1)
        return samples.get(name, f"[{name}]")

    return PLACEHOLDER.sub(sample, text).replace("%%", "%")
