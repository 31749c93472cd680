"""A text message is answered through the outbox: when the bot cannot be reached the turn is
tried again (by a worker too) before the citizen hears sorry, the messages of one conversation
are answered in the order they came, and a turn taken up again after a crash answers nothing
twice."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from twilio.request_validator import RequestValidator

from conftest import Sandbox, free_port, run_async
from portal.app import create_app
from portal.conversations.models import ChatMessage, Conversation
from portal.conversations.turns import KIND as TURN
from portal.database import make_engine
from portal.outbox.models import OutboxMessage
from portal.settings import Settings
from tests.journey_support import execute, run_worker

TWILIO = "/twilio/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
SORRY_ES = "Lo siento, el asistente no puede responder ahora."
SORRY_EN = "Sorry, the assistant cannot answer just now."


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    """No bot is running (nothing listens on its port); a turn may be tried for 20 s."""
    return make_settings(
        database_url=database_url,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        bot_retry_seconds=20,
    )


def _text(client: TestClient[Any], settings: Settings, sender: str, body: str) -> None:
    """Twilio's signed webhook for one SMS."""
    form = {
        "From": sender,
        "To": settings.twilio_from_number,
        "Body": body,
        "MessageSid": f"SM{uuid.uuid4().hex}",
    }
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    signature = validator.compute_signature(f"{settings.public_url}/webhooks/twilio", form)
    response = client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def _received(sandbox: Sandbox, to: str) -> list[str]:
    """What Twilio was asked to send to `to`, in the order it was asked."""
    auth = ("AC00000000000000000000000000000000", "sandbox-auth-token")
    answer = httpx.get(f"{sandbox.url}{TWILIO}", params={"To": to}, auth=auth)
    return [m["body"] for m in reversed(answer.json()["messages"])]


async def _turns(database_url: str, sender: str) -> list[OutboxMessage]:
    engine = make_engine(database_url)
    async with async_sessionmaker(engine)() as db:
        rows = await db.scalars(
            select(OutboxMessage)
            .join(
                Conversation,
                Conversation.id == OutboxMessage.payload["conversation_id"].as_integer(),
            )
            .where(OutboxMessage.kind == TURN, Conversation.address == sender)
            .order_by(OutboxMessage.id)
        )
        found = list(rows)
    await engine.dispose()
    return found


def _older(database_url: str, turns: list[OutboxMessage], seconds: float) -> None:
    """As if the turns had come `seconds` ago and were due now."""
    past = datetime.now(UTC) - timedelta(seconds=seconds)
    run_async(
        execute(
            database_url,
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([t.id for t in turns]))
            .values(created_at=past, next_attempt_at=past),
        )
    )


def test_a_bot_that_cannot_be_reached_is_tried_again_before_the_citizen_hears_sorry(
    settings: Settings, sandbox: Sandbox
) -> None:
    sender = f"+3460{random.randrange(10**7):07d}"
    with TestClient(create_app(settings)) as twilio:
        _text(twilio, settings, sender, "Hola, necesito ayuda")
    assert _received(sandbox, sender) == []  # no sorry yet: the bot may be restarting
    [turn] = run_async(_turns(settings.database_url, sender))
    assert turn.status == "pending" and "unreachable" in turn.last_error
    # The portal is gone; past the 20 s a worker answers it, in the citizen's language.
    _older(settings.database_url, [turn], 30)
    run_worker(settings)
    [sorry] = _received(sandbox, sender)
    assert sorry.startswith(SORRY_ES)
    [turn] = run_async(_turns(settings.database_url, sender))
    assert turn.status == "done"


def test_two_messages_are_answered_in_the_order_they_came(
    settings: Settings, sandbox: Sandbox
) -> None:
    sender = f"+3461{random.randrange(10**7):07d}"
    with TestClient(create_app(settings)) as twilio:
        _text(twilio, settings, sender, "Hola, necesito ayuda")
        _text(twilio, settings, sender, "Hello, I need help please")
    first, second = run_async(_turns(settings.database_url, sender))
    # The second is not even tried while the first waits for the bot.
    assert (first.status, second.status) == ("pending", "pending")
    assert first.attempts == 1 and second.attempts == 0
    _older(settings.database_url, [first, second], 30)
    run_worker(settings)  # the first is answered; the second's turn comes in the next pass
    run_worker(settings)
    replies = _received(sandbox, sender)
    assert [reply.split(",")[0] for reply in replies] == ["Lo siento", "Sorry"]


def test_a_turn_taken_up_after_a_crash_does_not_answer_twice(
    settings: Settings, sandbox: Sandbox
) -> None:
    """The portal wrote the replies (and marked the message answered), then died before it
    marked the turn done: the worker finishes the turn and sends nothing more."""
    sender = f"+3462{random.randrange(10**7):07d}"
    with TestClient(create_app(settings)) as twilio:
        _text(twilio, settings, sender, "Hola")
    [turn] = run_async(_turns(settings.database_url, sender))
    run_async(
        execute(
            settings.database_url,
            update(ChatMessage)
            .where(ChatMessage.id == turn.payload["chat_message_id"])
            .values(answered_at=datetime.now(UTC)),
        )
    )
    _older(settings.database_url, [turn], 30)
    run_worker(settings)
    assert _received(sandbox, sender) == []
    [turn] = run_async(_turns(settings.database_url, sender))
    assert turn.status == "done" and turn.attempts == 2
