"""One-time sign-in codes by SMS or email, for citizens without the national identity.

Only an HMAC of each code is stored. A code expires after CODE_MINUTES, works once, allows
MAX_ATTEMPTS guesses, is compared in constant time, and stops working when a newer one is sent.
Sending is limited per destination and per address, guessing per code and per address, each
within WINDOW. Everything done for one destination takes turns (see _take_turn).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.http import BackendError
from backend_clients.mail import MailClient
from backend_clients.twilio import TwilioClient
from portal.audit import AuditLog
from portal.i18n import gettext as _
from portal.identity.models import SignInCode, SignInCodeFailure

CODE_MINUTES = 10
MAX_ATTEMPTS = 5
WINDOW = timedelta(minutes=15)
SENDS_PER_DESTINATION = 3
SENDS_PER_ADDRESS = 10
FAILURES_PER_ADDRESS = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class TooManyAttempts(Exception):
    """A limit was reached; try again after `minutes`."""

    minutes = int(WINDOW.total_seconds() // 60)


class CodeNotSent(Exception):
    """The SMS or mail service did not take the message."""


@dataclass(frozen=True)
class Destination:
    channel: str  # "sms" or "email"
    address: str  # E.164 phone number or lower-cased email address

    @property
    def shown(self) -> str:
        """Enough of the address for the person to recognise it, not enough to read it out."""
        if self.channel == "sms":
            return "•" * (len(self.address) - 4) + self.address[-4:]
        name, _, domain = self.address.partition("@")
        return f"{name[:1]}•••@{domain}"


def parse_destination(text: str, region: str) -> Destination | None:
    """A phone number (national or international format) or an email address; None if neither."""
    text = text.strip()
    if "@" in text:
        return (
            Destination("email", text.lower()) if _EMAIL.match(text) and len(text) <= 320 else None
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return Destination(
        "sms", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


class SignInCodes:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        secret: str,
        twilio: TwilioClient,
        sms_sender: str,
        mail: MailClient,
        audit: AuditLog,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.key = hashlib.sha256(b"sign-in-codes:" + secret.encode()).digest()
        self.twilio = twilio
        self.sms_sender = sms_sender
        self.mail = mail
        self.audit = audit

    def _digest(self, destination: Destination, code: str) -> str:
        return hmac.new(
            self.key, f"{destination.address}:{code}".encode(), hashlib.sha256
        ).hexdigest()

    async def _take_turn(self, db: AsyncSession, destination: Destination) -> None:
        """Serialize everything done for one destination, across workers and replicas.

        PostgreSQL: a transaction-scoped advisory lock. SQLite: a first statement that writes,
        which takes the database's write lock until the transaction ends.
        """
        if db.bind.dialect.name == "postgresql":
            await db.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"sign-in-code:{destination.address}"},
            )
        else:
            await db.execute(
                update(SignInCode)
                .where(SignInCode.destination == destination.address)
                .values(attempts=SignInCode.attempts)
            )

    async def send(self, destination: Destination, ip: str | None) -> None:
        """Make and send a new code (older ones stop working).

        Raises TooManyAttempts or CodeNotSent.
        """
        now = datetime.now(UTC)
        code = f"{secrets.randbelow(10**6):06d}"
        async with self.sessionmaker() as db:
            await self._take_turn(db, destination)
            recent = (
                select(func.count())
                .select_from(SignInCode)
                .where(SignInCode.created_at >= now - WINDOW)
            )
            to_destination = await db.scalar(
                recent.where(SignInCode.destination == destination.address)
            )
            from_address = await db.scalar(recent.where(SignInCode.ip == ip)) if ip else 0
            limited = (to_destination or 0) >= SENDS_PER_DESTINATION or (
                from_address or 0
            ) >= SENDS_PER_ADDRESS
            if not limited:
                await db.execute(  # only the newest code works
                    update(SignInCode)
                    .where(
                        SignInCode.destination == destination.address, SignInCode.used_at.is_(None)
                    )
                    .values(used_at=now)
                )
                db.add(
                    SignInCode(
                        channel=destination.channel,
                        destination=destination.address,
                        code_hash=self._digest(destination, code),
                        ip=ip,
                        created_at=now,
                        expires_at=now + timedelta(minutes=CODE_MINUTES),
                    )
                )
            await (
                db.commit()
            )  # counted even if sending fails: a failing service is not a free retry
        if limited:
            await self.audit.record(
                "code_limit_reached", actor="anonymous", subject=destination.shown
            )
            raise TooManyAttempts()
        text_message = _(
            "Your City of Riverside sign-in code is %(code)s. It expires in %(minutes)s minutes. "
            "Do not share it with anyone.",
            code=code,
            minutes=CODE_MINUTES,
        )
        try:
            if destination.channel == "sms":
                await self.twilio.send_message(
                    to=destination.address, from_=self.sms_sender, body=text_message
                )
            else:
                await self.mail.send(
                    to=destination.address, subject=_("Your sign-in code"), text=text_message
                )
        except BackendError as error:
            raise CodeNotSent(str(error)) from error
        await self.audit.record(
            "code_sent", actor="anonymous", subject=destination.shown, channel=destination.channel
        )

    async def check(self, destination: Destination, code: str, ip: str | None) -> bool:
        """Whether `code` is the destination's live code; using it ends all the destination's codes.

        Wrong guesses are limited per code (MAX_ATTEMPTS) and per requesting address. There is no
        limit per destination on guesses, so that nobody can lock someone else out: the limit on
        codes sent per destination already bounds guessing there.
        """
        now = datetime.now(UTC)
        async with self.sessionmaker() as db:
            await self._take_turn(db, destination)
            wrong_from_address = 0
            if ip:
                wrong_from_address = (
                    await db.scalar(
                        select(func.count())
                        .select_from(SignInCodeFailure)
                        .where(SignInCodeFailure.at >= now - WINDOW, SignInCodeFailure.ip == ip)
                    )
                    or 0
                )
            if wrong_from_address >= FAILURES_PER_ADDRESS:
                outcome = "limited"
            else:
                live = await db.scalar(
                    select(SignInCode)
                    .where(
                        SignInCode.destination == destination.address,
                        SignInCode.used_at.is_(None),
                        SignInCode.expires_at > now,
                        SignInCode.attempts < MAX_ATTEMPTS,
                    )
                    .order_by(SignInCode.id.desc())
                    .limit(1)
                )
                given = self._digest(destination, code.strip())
                if live is not None and hmac.compare_digest(
                    live.code_hash.encode(), given.encode()
                ):
                    await db.execute(
                        update(SignInCode)
                        .where(
                            SignInCode.destination == destination.address,
                            SignInCode.used_at.is_(None),
                        )
                        .values(used_at=now)
                    )
                    outcome = "accepted"
                else:
                    if live is not None:
                        await db.execute(
                            update(SignInCode)
                            .where(SignInCode.id == live.id)
                            .values(attempts=SignInCode.attempts + 1)
                        )
                    db.add(SignInCodeFailure(destination=destination.address, ip=ip, at=now))
                    outcome = "wrong"
            await db.commit()
        # Audit entries are written after the transaction: never while holding its lock.
        if outcome == "limited":
            await self.audit.record(
                "code_limit_reached", actor="anonymous", subject=destination.shown
            )
            raise TooManyAttempts()
        if outcome == "wrong":
            await self.audit.record(
                "sign_in_failed", actor="anonymous", subject=destination.shown, reason="wrong code"
            )
        return outcome == "accepted"
