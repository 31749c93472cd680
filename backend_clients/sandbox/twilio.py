"""Twilio's Programmable Messaging API (2010-04-01), as far as Front Door uses it.

Create a message, fetch one, list them (filtered by To/From, newest first) and fetch the
account; Basic auth with the account SID and auth token; errors in Twilio's JSON shape.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

API = "/2010-04-01/Accounts/{account_sid:str}"
_NUMBER = re.compile(r"^(whatsapp:)?\+[1-9]\d{6,14}$")
MAX_BODY = 1600


@dataclass
class TwilioState:
    account_sid: str
    auth_token: str
    messages: list[dict[str, Any]] = field(default_factory=list)


def _error(status: int, code: int, message: str) -> Response[dict[str, Any]]:
    return Response(
        content={
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def _authorised(request: Request[Any, Any, Any], state: TwilioState, account_sid: str) -> bool:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    expected = f"{state.account_sid}:{state.auth_token}".encode()
    given = f"{user}:{password}".encode()
    return hmac.compare_digest(given, expected) and account_sid == state.account_sid


def _channel(number: str) -> str:
    return "whatsapp" if number.startswith("whatsapp:") else "sms"


def _sent_within(
    message: dict[str, Any], on: str | None, after: str | None, before: str | None
) -> bool:
    """Twilio's DateSent filters (YYYY-MM-DD, UTC): on that day, on or after, on or before."""
    day = parsedate_to_datetime(message["date_created"]).date().isoformat()
    return (not on or day == on) and (not after or day >= after) and (not before or day <= before)


def _unauthenticated() -> Response[dict[str, Any]]:
    return _error(401, 20003, "Authenticate")


class TwilioController(Controller):
    path = "/twilio"
    include_in_schema = False

    def _state(self, request: Request[Any, Any, Any], account_sid: str) -> TwilioState | None:
        """The account's state, or None when the credentials do not match (Twilio's 20003)."""
        state: TwilioState = request.app.state.twilio
        return state if _authorised(request, state, account_sid) else None

    @get("/2010-04-01/Accounts/{account_file:str}")
    async def account(
        self, request: Request[Any, Any, Any], account_file: FromPath[str]
    ) -> Response[Any]:
        account_sid = account_file.removesuffix(".json")
        state = self._state(request, account_sid)
        if state is None:
            return _unauthenticated()
        return Response(
            content={
                "sid": account_sid,
                "friendly_name": "Sandbox account",
                "status": "active",
                "type": "Full",
                "uri": f"/2010-04-01/Accounts/{account_sid}.json",
            }
        )

    @post(API + "/Messages.json", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], account_sid: FromPath[str]
    ) -> Response[Any]:
        state = self._state(request, account_sid)
        if state is None:
            return _unauthenticated()
        form = await request.form()
        to = str(form.get("To") or "")
        sender = str(form.get("From") or "")
        service = str(form.get("MessagingServiceSid") or "")
        body = str(form.get("Body") or "")
        media = [str(url) for url in form.getall("MediaUrl")] if "MediaUrl" in form else []
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not _NUMBER.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            return _error(400, 21603, "A 'From' phone number is required.")
        if sender and not _NUMBER.match(sender):
            return _error(400, 21212, f"The 'From' number {sender} is not a valid phone number.")
        if sender and _channel(sender) != _channel(to):
            return _error(
                400, 21910, "Invalid From and To pair. From and To should be of the same channel"
            )
        if not body and not media:
            return _error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        now = format_datetime(datetime.now(UTC), usegmt=True)
        sid = "SM" + secrets.token_hex(16)
        message = {
            "sid": sid,
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "to": to,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "body": body,
            "media_urls": media,
            "num_media": str(len(media)),
            "num_segments": str(max(1, -(-len(body) // 153))),
            "status": "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"
            },
        }
        state.messages.append(message)
        return Response(content=message, status_code=201)

    @get(API + "/Messages.json")
    async def list_messages(
        self, request: Request[Any, Any, Any], account_sid: FromPath[str]
    ) -> Response[Any]:
        state = self._state(request, account_sid)
        if state is None:
            return _unauthenticated()
        to = request.query_params.get("To")
        sender = request.query_params.get("From")
        page_size = min(int(request.query_params.get("PageSize", 50) or 50), 1000)
        page = int(request.query_params.get("Page", 0) or 0)
        # The sandbox sends at once: a message's date sent is the day it was created (UTC).
        on, after, before = (request.query_params.get(f"DateSent{op}") for op in ("", ">", "<"))
        found = [
            message
            for message in reversed(state.messages)
            if (not to or message["to"] == to)
            and (not sender or message["from"] == sender)
            and _sent_within(message, on, after, before)
        ]
        chunk = found[page * page_size : (page + 1) * page_size]
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        has_next = (page + 1) * page_size < len(found)
        return Response(
            content={
                "messages": chunk,
                "page": page,
                "page_size": page_size,
                "start": page * page_size,
                "end": page * page_size + max(len(chunk) - 1, 0),
                "uri": f"{uri}?PageSize={page_size}&Page={page}",
                "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
                "previous_page_uri": f"{uri}?PageSize={page_size}&Page={page - 1}"
                if page
                else None,
                "next_page_uri": f"{uri}?PageSize={page_size}&Page={page + 1}"
                if has_next
                else None,
            }
        )

    @get(API + "/Messages/{message_sid:str}")
    async def fetch(
        self,
        request: Request[Any, Any, Any],
        account_sid: FromPath[str],
        message_sid: FromPath[str],
    ) -> Response[Any]:
        state = self._state(request, account_sid)
        if state is None:
            return _unauthenticated()
        sid = message_sid.removesuffix(".json")
        for message in state.messages:
            if message["sid"] == sid:
                return Response(content=message)
        return _error(404, 20404, f"The requested resource {request.url.path} was not found")

    @get(API + "/Messages/{message_sid:str}/Media/{media_sid:str}")
    async def media(
        self,
        request: Request[Any, Any, Any],
        account_sid: FromPath[str],
        message_sid: FromPath[str],
        media_sid: FromPath[str],
    ) -> Response[Any]:
        """A photo a citizen sent (every media id is the same small PNG; "ME404" is missing),
        behind the account's credentials as Twilio's media are by default, and, as Twilio does,
        answered with a redirect to the media store."""
        if self._state(request, account_sid) is None:
            return _unauthenticated()
        if media_sid == "ME404":
            return _error(404, 20404, f"The requested resource {request.url.path} was not found")
        return Redirect(f"/twilio/_media/{media_sid}", status_code=307)

    @get("/_media/{media_sid:str}")
    async def media_store(self, media_sid: FromPath[str]) -> Response[Any]:
        """Where the redirect leads: the file itself, under an unguessable name in reality."""
        return Response(content=PHOTO, media_type="image/png")


# A 1x1 grey PNG.
PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)
