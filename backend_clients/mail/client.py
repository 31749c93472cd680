"""Send email through an SMTP relay (the sandbox's receiver locally)."""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from backend_clients.http import BackendRejected, BackendUnavailable


def message_id(key: str, sender: str) -> str:
    """The same Message-ID for every attempt at one piece of work (its outbox key), so a mail
    sent again after a lost answer is known to the receiver as the same mail."""
    domain = sender.rpartition("@")[2] or "frontdoor.example"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str = "no-reply@frontdoor.example"
    timeout: float = 5.0


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "maintype/subtype"
    content: bytes


class MailClient:
    """smtplib in a worker thread: SMTP is slow next to a web request and must not block it."""

    name = "mail"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def _connect(self) -> smtplib.SMTP:
        try:
            return smtplib.SMTP(self.config.host, self.config.port, timeout=self.config.timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise BackendUnavailable(f"mail: unreachable ({error})") from error

    def _ping(self) -> None:
        with self._connect() as smtp:
            code, _ = smtp.noop()
            if code != 250:
                raise BackendUnavailable(f"mail: NOOP answered {code}")

    def _send(self, message: EmailMessage) -> None:
        with self._connect() as smtp:
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                if all(400 <= code < 500 for code in codes):
                    raise BackendUnavailable(f"mail: recipients deferred ({codes})") from error
                raise BackendRejected(
                    f"mail: recipients refused ({codes})", status_code=max(codes)
                ) from error
            except smtplib.SMTPResponseException as error:
                if 400 <= error.smtp_code < 500:
                    raise BackendUnavailable(f"mail: try later ({error.smtp_code})") from error
                raise BackendRejected(
                    f"mail: refused ({error.smtp_code})", status_code=error.smtp_code
                ) from error
            except (OSError, smtplib.SMTPException) as error:
                raise BackendUnavailable(f"mail: {error}") from error

    async def ping(self) -> None:
        """Connect and say NOOP; raises BackendUnavailable when the relay does not answer."""
        await asyncio.to_thread(self._ping)

    async def send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        request_id: str | None = None,
        html: str | None = None,
        attachments: Sequence[Attachment] = (),
        message_id: str | None = None,
        language: str | None = None,
    ) -> None:
        """Send an email: plain text, with an HTML alternative and attachments when given.
        `message_id` ("<...@...>") lets the receiver tell a repeated sending from a new mail."""
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to
        message["Subject"] = subject
        if request_id:
            message["X-Request-ID"] = request_id
        if message_id:
            message["Message-ID"] = message_id
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        for attachment in attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=attachment.filename,
            )
        if language:  # after the parts: setting the content drops Content-* headers
            message["Content-Language"] = language
        await asyncio.to_thread(self._send, message)
