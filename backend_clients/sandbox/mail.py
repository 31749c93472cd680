"""An SMTP receiver (aiosmtpd) that keeps what it receives, and a JSON list of it for testers.

Like a mailbox that files mail by Message-ID, a message whose Message-ID it already holds is not
listed again: the one listed counts its `copies` (how many times it arrived)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller as SmtpController
from litestar import Controller, Request, Response, delete, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from backend_clients.sandbox.faults import SandboxState


@dataclass
class MailState:
    messages: list[dict[str, Any]] = field(default_factory=list)
    # message id -> its attachments' (filename, content type, bytes), for testers to open
    files: dict[str, list[tuple[str, str, bytes]]] = field(default_factory=dict)


class SmtpHandler:
    """aiosmtpd hooks: honour the "mail" fault switches, then store the message. A delay alone
    is a slow answer to a message already kept: a sender that gives up waiting has still sent
    it (SMTP's lost answer)."""

    def __init__(self, mail: MailState, sandbox: SandboxState) -> None:
        self.mail = mail
        self.sandbox = sandbox

    async def _failure(self, delay: float, failure: str | None) -> str | None:
        if delay:
            await asyncio.sleep(delay)
        if failure == "down":
            return "421 4.3.2 Service not available"
        if failure == "error":
            return "451 4.3.0 Temporary failure, try again later"
        return None

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        return await self._failure(*self.sandbox.outcome("mail")) or "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        delay, failure = self.sandbox.outcome("mail")
        if failure:
            return await self._failure(delay, failure) or "451 4.3.0 Try again later"
        self._keep(envelope)
        await asyncio.sleep(delay)
        return "250 Message accepted for delivery"

    def _keep(self, envelope: Any) -> None:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        message_id = parsed.get("Message-ID")
        for kept in self.mail.messages:
            if message_id and kept["message_id"] == message_id:
                kept["copies"] += 1
                return
        body = parsed.get_body(preferencelist=("plain", "html"))
        html = parsed.get_body(preferencelist=("html",))
        files = [
            (
                part.get_filename() or "",
                part.get_content_type(),
                bytes(part.get_payload(decode=True) or b""),
            )
            for part in parsed.iter_attachments()
        ]
        key = secrets.token_hex(8)
        self.mail.files[key] = files
        self.mail.messages.append(
            {
                "id": key,
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(parsed.get("Subject", "")),
                "text": body.get_content().replace("\r\n", "\n") if body is not None else "",
                "html": html.get_content() if html is not None else None,
                "language": parsed.get("Content-Language"),
                "attachments": [
                    {"filename": name, "content_type": kind, "size": len(content)}
                    for name, kind, content in files
                ],
                "request_id": parsed.get("X-Request-ID"),
                "message_id": message_id,
                "copies": 1,
                "received_at": datetime.now(UTC).isoformat(),
            }
        )


def start_smtp(mail: MailState, sandbox: SandboxState, host: str, port: int) -> SmtpController:
    controller = SmtpController(SmtpHandler(mail, sandbox), hostname=host, port=port)
    controller.start()
    return controller


class MailController(Controller):
    """GET /mail/messages[?to=address] lists received mail, newest first; DELETE clears it;
    GET /mail/messages/{id}/attachments/{n} gives an attachment's bytes."""

    path = "/mail/messages"
    include_in_schema = False

    @get()
    async def list_mail(
        self, request: Request[Any, Any, Any], to: FromQuery[str | None] = None
    ) -> dict[str, Any]:
        mail: MailState = request.app.state.mail
        found = [message for message in reversed(mail.messages) if not to or to in message["to"]]
        return {"messages": found}

    @get("/{message_id:str}/attachments/{number:int}")
    async def attachment(
        self, request: Request[Any, Any, Any], message_id: FromPath[str], number: FromPath[int]
    ) -> Response[bytes]:
        files = request.app.state.mail.files.get(message_id) or []
        if not 0 <= number < len(files):
            raise NotFoundException()
        _name, content_type, content = files[number]
        return Response(content, media_type=content_type)

    @delete(status_code=204)
    async def clear_mail(self, request: Request[Any, Any, Any]) -> None:
        request.app.state.mail.messages.clear()
        request.app.state.mail.files.clear()
