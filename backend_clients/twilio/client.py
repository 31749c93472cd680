"""Send and read messages through Twilio's 2010-04-01 REST API.

`base_url` is https://api.twilio.com in production and the sandbox's /twilio locally.
"""

from __future__ import annotations

from datetime import date, datetime
from email.utils import parsedate_to_datetime

import httpx

from backend_clients.http import BackendClient, BackendRejected, BackendUnavailable, ClientConfig
from backend_clients.twilio.models import Account, Message


class TwilioClient(BackendClient):
    name = "twilio"

    def __init__(self, config: ClientConfig, account_sid: str) -> None:
        super().__init__(config)
        self.account_sid = account_sid
        self._messages = f"/2010-04-01/Accounts/{account_sid}/Messages.json"

    async def fetch_account(self) -> Account:
        """The account's state; a cheap way to check URL and credentials."""
        response = await self.request("GET", f"/2010-04-01/Accounts/{self.account_sid}.json")
        return Account.model_validate(response.json())

    async def send_message(
        self, *, to: str, from_: str, body: str = "", media_urls: tuple[str, ...] = ()
    ) -> Message:
        """Queue one SMS or WhatsApp message ("whatsapp:+..." numbers)."""
        form: dict[str, str | list[str]] = {"To": to, "From": from_, "Body": body}
        if media_urls:
            form["MediaUrl"] = list(media_urls)
        response = await self.request("POST", self._messages, data=form)
        return Message.model_validate(response.json())

    async def list_messages(
        self, *, to: str | None = None, from_: str | None = None, sent_since: date | None = None
    ) -> list[Message]:
        """Messages sent from the account, newest first (the first page), optionally filtered:
        `sent_since` is Twilio's `DateSent>` (sent on or after that day, UTC)."""
        params = {key: value for key, value in (("To", to), ("From", from_)) if value}
        if sent_since is not None:
            params["DateSent>"] = sent_since.isoformat()
        response = await self.request("GET", self._messages, params=params)
        return [Message.model_validate(item) for item in response.json()["messages"]]

    async def find_sent(self, *, to: str, body: str, since: datetime) -> Message | None:
        """A message with this text already sent to `to` since `since`, if any: asked before
        sending again after an attempt that a crash cut short (Twilio takes no idempotency
        key, so this is how a repeat is avoided)."""
        for message in await self.list_messages(to=to, sent_since=since.date()):
            created = message.date_created and parsedate_to_datetime(message.date_created)
            if message.body == body and created and created >= since.replace(microsecond=0):
                return message
        return None

    async def fetch_media(self, url: str, max_bytes: int) -> bytes:
        """A photo a citizen sent (the MediaUrl of an incoming message). Only this account's own
        media are fetched: a URL elsewhere is refused, so an incoming message cannot make the
        portal call another host. Twilio answers with a redirect to its media store, which is
        followed (httpx sends the credentials to the same host only); reading stops past
        `max_bytes`."""
        base = str(self._http.base_url).rstrip("/")
        if not url.startswith(f"{base}/2010-04-01/Accounts/{self.account_sid}/Messages/"):
            raise BackendRejected("twilio: not one of this account's media", status_code=400)
        content = bytearray()
        try:
            async with self._http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code >= 400:
                    raise BackendRejected(
                        f"twilio: media answered {response.status_code}",
                        status_code=response.status_code,
                    )
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > max_bytes:
                        raise BackendRejected("twilio: media too large", status_code=413)
        except httpx.HTTPError as error:
            raise BackendUnavailable(f"twilio: media unreachable ({error})") from error
        return bytes(content)
