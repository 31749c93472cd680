"""One call of the bot to an action: the conversation, Rasa's tracker and what the portal has
(database, backends, catalogue), and what the action gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditLog
from portal.catalogue.loader import Catalogue
from portal.conversations.models import Conversation
from portal.settings import Settings
from portal.shared.backends import Backends
from portal.web.limits import Counters


@dataclass
class Turn:
    conversation: Conversation
    tracker: dict[str, Any]
    db: AsyncSession
    request: Request[Any, Any, Any]  # Rasa's call to the action endpoint

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
    def settings(self) -> Settings:
        settings: Settings = self.request.app.state.settings
        return settings

    @property
    def public_url(self) -> str:
        return self.settings.public_url

    @property
    def catalogue(self) -> Catalogue:
        catalogue: Catalogue = self.request.app.state.catalogue
        return catalogue

    @property
    def backends(self) -> Backends:
        backends: Backends = self.request.app.state.backends
        return backends

    @property
    def audit(self) -> AuditLog:
        audit: AuditLog = self.request.app.state.audit
        return audit

    @property
    def counters(self) -> Counters:
        """The portal's shared rate-limit counters."""
        counters: Counters = self.request.app.state.counters
        return counters


@dataclass
class Outcome:
    texts: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def slot_set(name: str, value: Any) -> dict[str, Any]:
    """Rasa's event that sets (or, with None, clears) a slot."""
    return {"event": "slot", "name": name, "value": value}
