"""SMS and WhatsApp messages from Twilio (POST /webhooks/twilio).

Twilio signs each request with the account's auth token over the URL it was configured with
(FRONTDOOR_PUBLIC_URL + the path) and the form's fields; a request that fails the check is
refused with 403 and nothing is stored. The answer is an empty TwiML document, sent once the
message and its turn are stored: the bot's replies follow through Twilio's REST API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.request_validator import RequestValidator

from portal.conversations.gateway import Gateway, Inbound, take_in
from portal.settings import Settings

PATH = "/webhooks/twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_MEDIA = 10  # Twilio's own limit per message


def _location(form: dict[str, str]) -> dict[str, float] | None:
    try:
        latitude, longitude = float(form["Latitude"]), float(form["Longitude"])
    except (KeyError, ValueError):
        return None
    if -90 <= latitude <= 90 and -180 <= longitude <= 180:
        return {"latitude": latitude, "longitude": longitude}
    return None


def inbound_message(form: dict[str, str]) -> Inbound | None:
    """The citizen's message in a Twilio form; None when it is not one (no sender)."""
    sender = form.get("From", "")
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    address = sender.removeprefix("whatsapp:").strip()
    if not address:
        return None
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    media = tuple(form[f"MediaUrl{n}"] for n in range(count) if form.get(f"MediaUrl{n}"))
    return Inbound(
        channel=channel,
        address=address[:64],
        text=form.get("Body", "")[:1600],
        media=media,
        location=_location(form),
        external_id=form.get("MessageSid") or None,
    )


@post(PATH, name="twilio_webhook", status_code=200)
async def twilio_webhook(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    gateway: NamedDependency[Gateway],
) -> Response[str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not validator.validate(settings.public_url + PATH, form, signature):
        return Response("Forbidden", status_code=403, media_type="text/plain")
    inbound = inbound_message(form)
    stored = await take_in(db, inbound) if inbound else None
    task = None
    if stored is not None and stored.turn is not None:
        # Answered by this portal now; by a worker if it cannot (see conversations/turns.py).
        task = BackgroundTask(gateway.outbox.deliver_now, stored.turn.id)
    return Response(EMPTY_TWIML, media_type="application/xml", background=task)
