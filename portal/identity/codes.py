"""One-time sign-in codes by SMS or email, for citizens without the national identity.

Only an HMAC of each code is stored. A code expires after CODE_MINUTES, works once, allows
MAX_ATTEMPTS guesses, is compared in constant time, and stops working when a newer one is sent.
Sending and wrong guesses are limited within WINDOW by atomic counters (portal.web.limits), per
requesting address (a network address, or a bot conversation) and per destination. The caps
per destination are higher than any one address may use: nobody alone can stop a number from
getting or using its codes, while guessing a number's codes stays bounded (README, "sign-in
code"). Everything else done for one destination takes turns (see _take_turn).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend_clients.http import BackendError
from backend_clients.mail import MailClient
from backend_clients.twilio import TwilioClient
from portal.audit import AuditLog
from portal.i18n import gettext as _
from portal.identity.models import SignInCode
from portal.web.limits import Counters, Limit, give_back, within_limits

CODE_MINUTES = 10
MAX_ATTEMPTS = 5
WINDOW = timedelta(minutes=15)
SENDS_PER_ADDRESS = 10  # to any destinations
SENDS_PER_DESTINATION_PER_ADDRESS = 3
SENDS_PER_DESTINATION = 10  # from every address together
WRONG_GUESSES_PER_ADDRESS = 10  # for any destinations
WRONG_GUESSES_PER_DESTINATION = 30  # from every address together
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
        counters: Counters,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.key = hashlib.sha256(b"sign-in-codes:" + secret.encode()).digest()
        self.twilio = twilio
        self.sms_sender = sms_sender
        self.mail = mail
        self.audit = audit
        self.counters = counters

    def _digest(self, destination: Destination, code: str) -> str:
        return hmac.new(
            self.key, f"{destination.address}:{code}".encode(), hashlib.sha256
        ).hexdigest()

    def _named(self, destination: Destination) -> str:
        """The destination as the counters name it: keyed, so they hold no numbers or emails."""
        return self._digest(destination, "limits")[:32]

    def _sends(self, destination: Destination, asker: str) -> tuple[Limit, ...]:
        seconds, named = int(WINDOW.total_seconds()), self._named(destination)
        return (
            Limit(f"codes-sent:{asker}", SENDS_PER_ADDRESS, seconds),
            Limit(f"codes-sent:{named}:{asker}", SENDS_PER_DESTINATION_PER_ADDRESS, seconds),
            Limit(f"codes-sent:{named}", SENDS_PER_DESTINATION, seconds),
        )

    def _wrong_guesses(self, destination: Destination, asker: str) -> tuple[Limit, ...]:
        seconds = int(WINDOW.total_seconds())
        return (
            Limit(f"codes-wrong:{asker}", WRONG_GUESSES_PER_ADDRESS, seconds),
            Limit(
                f"codes-wrong:{self._named(destination)}", WRONG_GUESSES_PER_DESTINATION, seconds
            ),
        )

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

        Counted before anything is made, even if sending then fails: a failing service is not
        a free retry. Raises TooManyAttempts or CodeNotSent.
        """
        if not await within_limits(self.counters, *self._sends(destination, ip or "-")):
            await self.audit.record(
                "code_limit_reached", actor="anonymous", subject=destination.shown
            )
            raise TooManyAttempts()
        now = datetime.now(UTC)
        code = f"{secrets.randbelow(10**6):06d}"
        async with self.sessionmaker() as db:
            await self._take_turn(db, destination)
            await db.execute(  # only the newest code works
                update(SignInCode)
                .where(SignInCode.destination == destination.address, SignInCode.used_at.is_(None))
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
            await db.commit()
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

        Guesses are limited per code (MAX_ATTEMPTS); wrong guesses per requesting address and,
        higher, per destination. Each guess takes a wrong guess's place before it is checked
        (so simultaneous guesses cannot all slip in) and gives it back when it was right.
        """
        wrong_guesses = self._wrong_guesses(destination, ip or "-")
        if not await within_limits(self.counters, *wrong_guesses):
            await self.audit.record(
                "code_limit_reached", actor="anonymous", subject=destination.shown
            )
            raise TooManyAttempts()
        now = datetime.now(UTC)
        async with self.sessionmaker() as db:
            await self._take_turn(db, destination)
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
            accepted = live is not None and hmac.compare_digest(
                live.code_hash.encode(), given.encode()
            )
            if accepted:
                await db.execute(
                    update(SignInCode)
                    .where(
                        SignInCode.destination == destination.address,
                        SignInCode.used_at.is_(None),
                    )
                    .values(used_at=now)
                )
            elif live is not None:
                await db.execute(
                    update(SignInCode)
                    .where(SignInCode.id == live.id)
                    .values(attempts=SignInCode.attempts + 1)
                )
            await db.commit()
        # Audit entries are written after the transaction: never while holding its lock.
        if accepted:
            await give_back(self.counters, *wrong_guesses)
        else:
            await self.audit.record(
                "sign_in_failed", actor="anonymous", subject=destination.shown, reason="wrong code"
            )
        return accepted
