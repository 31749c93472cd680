"""One call of the bot to an action: the conversation, Rasa's tracker and what the portal has
(database, backends, catalogue), and what the action gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.twilio import TwilioClient
from portal.audit import AuditLog
from portal.catalogue import Catalogue, catalogue_of
from portal.conversations.models import Conversation
from portal.identity.codes import SignInCodes
from portal.settings import Settings
from portal.shared.backends import Backends
from portal.web.limits import Counters


@dataclass
class Turn:
    conversation: Conversation
    tracker: dict[str, Any]
    db: AsyncSession
    request: Request[Any, Any, Any]  # Rasa's call to the action endpoint
    # The portal's services, handed over by the action endpoint's dependencies.
    settings: Settings
    backends: Backends
    audit: AuditLog
    counters: Counters  # the portal's shared rate-limit counters
    twilio: TwilioClient
    sign_in_codes: SignInCodes

    @property
    def message(self) -> dict[str, Any]:
        return dict(self.tracker.get("latest_message") or {})

    @property
    def text(self) -> str:
        return str(self.message.get("text") or "")

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.message.get("metadata") or {})

    @property
    def intent(self) -> str | None:
        name = (self.message.get("intent") or {}).get("name")
        return str(name) if name else None

    def slot(self, name: str) -> Any:
        return (self.tracker.get("slots") or {}).get(name)

    @property
    def public_url(self) -> str:
        return self.settings.public_url

    @property
    def catalogue(self) -> Catalogue:
        return catalogue_of(self.request)


@dataclass
class Outcome:
    texts: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def slot_set(name: str, value: Any) -> dict[str, Any]:
    """Rasa's event that sets (or, with None, clears) a slot."""
    return {"event": "slot", "name": name, "value": value}
