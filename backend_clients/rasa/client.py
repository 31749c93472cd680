"""Talk to the bot the way any channel does: Rasa's REST channel for messages, its HTTP API
(with its auth token) for the conversation's state. Nothing else of Rasa is used, so another
engine that speaks these two small contracts can replace it (CONTRACTS.md §8)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from backend_clients.http import BackendClient, ClientConfig


class BotReply(BaseModel):
    """One message the bot wants sent (Rasa's REST channel answer; texts only, as on SMS)."""

    text: str = ""


_REPLIES = TypeAdapter(list[BotReply])


class RasaClient(BackendClient):
    name = "bot"

    def __init__(self, config: ClientConfig, token: str) -> None:
        super().__init__(config)
        self._token = token

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        """The bot's replies to one message of `sender` (empty while the bot is paused)."""
        response = await self.request(
            "POST",
            "/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
        )
        return self.read(response, _REPLIES)

    async def add_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Append events to the conversation, e.g. pause or resume it."""
        await self.request(
            "POST",
            f"/conversations/{sender}/tracker/events",
            params={"token": self._token},
            json=events,
        )
