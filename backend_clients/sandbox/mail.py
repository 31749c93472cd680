"""An SMTP receiver (aiosmtpd) that keeps what it receives, and a JSON list of it for testers."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller as SmtpController
from litestar import Controller, Request, delete, get
from litestar.params import FromQuery

from backend_clients.sandbox.faults import SandboxState


@dataclass
class MailState:
    messages: list[dict[str, Any]] = field(default_factory=list)


class SmtpHandler:
    """aiosmtpd hooks: honour the "mail" fault switches, then store the message."""

    def __init__(self, mail: MailState, sandbox: SandboxState) -> None:
        self.mail = mail
        self.sandbox = sandbox

    async def _failure(self) -> str | None:
        delay, failure = self.sandbox.outcome("mail")
        if delay:
            await asyncio.sleep(delay)
        if failure == "down":
            return "421 4.3.2 Service not available"
        if failure == "error":
            return "451 4.3.0 Temporary failure, try again later"
        return None

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        return await self._failure() or "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        failure = await self._failure()
        if failure:
            return failure
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(preferencelist=("plain", "html"))
        self.mail.messages.append(
            {
                "id": secrets.token_hex(8),
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(parsed.get("Subject", "")),
                "text": body.get_content().replace("\r\n", "\n") if body is not None else "",
                "request_id": parsed.get("X-Request-ID"),
                "received_at": datetime.now(UTC).isoformat(),
            }
        )
        return "250 Message accepted for delivery"


def start_smtp(mail: MailState, sandbox: SandboxState, host: str, port: int) -> SmtpController:
    controller = SmtpController(SmtpHandler(mail, sandbox), hostname=host, port=port)
    controller.start()
    return controller


class MailController(Controller):
    """GET /mail/messages[?to=address] lists received mail, newest first; DELETE clears it."""

    path = "/mail/messages"
    include_in_schema = False

    @get()
    async def list_mail(
        self, request: Request[Any, Any, Any], to: FromQuery[str | None] = None
    ) -> dict[str, Any]:
        mail: MailState = request.app.state.mail
        found = [message for message in reversed(mail.messages) if not to or to in message["to"]]
        return {"messages": found}

    @delete(status_code=204)
    async def clear_mail(self, request: Request[Any, Any, Any]) -> None:
        request.app.state.mail.messages.clear()
