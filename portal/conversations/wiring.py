"""The conversation parts the portal and the worker both build: both answer SMS and WhatsApp
turns and send their replies (the portal at once, the worker what the portal could not)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.http import ClientConfig, no_headers
from backend_clients.rasa import RasaClient
from backend_clients.twilio import TwilioClient
from portal.audit import AuditLog
from portal.conversations.gateway import Gateway
from portal.conversations.replies import KIND as REPLY
from portal.conversations.replies import Replies
from portal.conversations.turns import KIND as TURN
from portal.conversations.turns import Turns
from portal.identity.codes import SignInCodes
from portal.observability.metrics import outbox_finished
from portal.outbox.worker import Handler, Outbox
from portal.settings import Settings


def rasa_client(
    settings: Settings, headers: Callable[[], Mapping[str, str]] = no_headers
) -> RasaClient:
    # A turn may file a report (photo, document service, application): more than the 5 s a
    # single backend call gets, and nobody waits on it (Twilio has had its answer).
    return RasaClient(
        ClientConfig(
            base_url=settings.rasa_url, timeout=httpx.Timeout(30.0, connect=2.0), headers=headers
        ),
        token=settings.rasa_token.get_secret_value(),
    )


def conversations(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    bot: RasaClient,
    audit: AuditLog,
    codes: SignInCodes,
    twilio: TwilioClient,
) -> tuple[Gateway, dict[str, Handler]]:
    """The gateway, and the outbox handlers of chat turns and replies (the gateway's own
    outbox has them, to answer and send at once)."""
    replies = Replies(sessionmaker, twilio, settings.twilio_from_number)
    outbox = Outbox(sessionmaker, {}, on_finish=outbox_finished)
    gateway = Gateway(sessionmaker, bot, audit, codes, outbox)
    turns = Turns(sessionmaker, gateway, settings.bot_retry_seconds)
    outbox.handlers.update({REPLY: replies.send, TURN: turns.answer})
    return gateway, dict(outbox.handlers)
