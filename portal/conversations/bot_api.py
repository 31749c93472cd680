"""The two endpoints Rasa calls: NLG (`POST /bot/nlg`: the text of a response id) and custom
actions (`POST /bot/actions`: Rasa's action-server protocol). Both answer only a caller holding
the shared secret (FRONTDOOR_BOT_SECRET), and both word their texts in the conversation's
language, which the portal owns."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_clients.twilio import TwilioClient
from portal.audit import AuditLog
from portal.conversations.actions import ACTIONS
from portal.conversations.gateway import SORRY
from portal.conversations.models import Conversation
from portal.conversations.report import STOP_FORM
from portal.conversations.responses import render
from portal.conversations.turn import Outcome, Turn
from portal.database.engine import READ_ONLY, utcnow
from portal.i18n.locale import use_locale
from portal.identity.codes import SignInCodes
from portal.settings import Settings
from portal.shared.backends import Backends
from portal.shared.deps import RateLimitCounters

log = logging.getLogger(__name__)


def _allowed(request: Request[Any, Any, Any], settings: Settings) -> bool:
    given = request.headers.get("authorization", "").encode()
    expected = f"Bearer {settings.bot_secret.get_secret_value()}".encode()
    return hmac.compare_digest(given, expected)


def _refused() -> Response[dict[str, str]]:
    return Response({"error": "unauthorized"}, status_code=401)


async def _conversation(db: AsyncSession, sender: Any) -> Conversation | None:
    if not isinstance(sender, str):
        return None
    found: Conversation | None = await db.scalar(
        select(Conversation).where(Conversation.key == sender)
    )
    return found


@post("/bot/nlg", name="bot_nlg", status_code=200, opt=READ_ONLY)
async def nlg(
    request: Request[Any, Any, Any],
    data: JSONBody[dict[str, Any]],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """{"response": "utter_greet", "tracker": {...}} -> {"text": "..."} in the right language."""
    if not _allowed(request, settings):
        return _refused()
    conversation = await _conversation(db, (data.get("tracker") or {}).get("sender_id"))
    use_locale(conversation.language if conversation else "en")
    text = render(str(data.get("response")))
    if text is None:
        return Response({"error": f"unknown response {data.get('response')!r}"}, status_code=404)
    return Response({"text": text})


@post("/bot/actions", name="bot_actions", status_code=200)
async def run_action(
    request: Request[Any, Any, Any],
    data: JSONBody[dict[str, Any]],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    backends: NamedDependency[Backends],
    audit: NamedDependency[AuditLog],
    counters: NamedDependency[RateLimitCounters],
    twilio: NamedDependency[TwilioClient],
    sign_in_codes: NamedDependency[SignInCodes],
) -> Response[Any]:
    """Rasa's action protocol: {"next_action", "sender_id", "tracker"} ->
    {"events": [...], "responses": [{"text": ...}]}; an unknown action is a 404 as Rasa expects."""
    if not _allowed(request, settings):
        return _refused()
    name = str(data.get("next_action"))
    action = ACTIONS.get(name)
    conversation = await _conversation(db, data.get("sender_id"))
    if action is None or conversation is None:
        return Response(
            {"error": f"no action {name!r} for this conversation", "action_name": name},
            status_code=404,
        )
    use_locale(conversation.language)
    turn = Turn(
        conversation,
        dict(data.get("tracker") or {}),
        db,
        request,
        settings=settings,
        backends=backends,
        audit=audit,
        counters=counters,
        twilio=twilio,
        sign_in_codes=sign_in_codes,
    )
    try:
        outcome = await action(turn)
        conversation.updated_at = utcnow()
        await db.commit()
    except Exception:  # Rasa would say nothing at all: the citizen hears sorry, and can go on
        log.exception("bot action %s failed", name)
        await db.rollback()
        outcome = Outcome([str(SORRY)], STOP_FORM)
    return Response(
        {"events": outcome.events, "responses": [{"text": text} for text in outcome.texts]}
    )
