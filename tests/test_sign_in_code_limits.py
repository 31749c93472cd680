"""The code service under concurrency and abuse, on SQLite and PostgreSQL (real sandbox)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from backend_clients.http import ClientConfig
from backend_clients.mail import MailClient, SmtpConfig
from backend_clients.twilio import TwilioClient
from conftest import Sandbox, migrate, run_async
from portal.audit import AuditLog
from portal.database import make_engine
from portal.database.counters import DatabaseCounters
from portal.identity.codes import (
    MAX_ATTEMPTS,
    SENDS_PER_DESTINATION,
    WRONG_GUESSES_PER_ADDRESS,
    WRONG_GUESSES_PER_DESTINATION,
    Destination,
    SignInCodes,
    TooManyAttempts,
)
from portal.identity.models import SignInCode

SID = "AC00000000000000000000000000000000"
VICTIM = Destination("sms", "+34600111501")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    url = fresh_database(request.param)
    migrate(url)
    return url


async def _with_codes(url: str, sandbox: Sandbox, scenario: Any) -> Any:
    engine = make_engine(url)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    twilio = TwilioClient(
        ClientConfig(base_url=f"{sandbox.url}/twilio", auth=(SID, "sandbox-auth-token")),
        account_sid=SID,
    )
    codes = SignInCodes(
        sessionmaker,
        "secret",
        twilio,
        "+15550001111",
        MailClient(SmtpConfig("127.0.0.1", sandbox.smtp_port)),
        AuditLog(sessionmaker),
        DatabaseCounters(engine),
    )
    try:
        return await scenario(codes, sessionmaker)
    finally:
        await twilio.aclose()
        await engine.dispose()


def latest_code(sandbox: Sandbox, to: str) -> str:
    url = f"{sandbox.url}/twilio/2010-04-01/Accounts/{SID}/Messages.json"
    body = httpx.get(url, params={"To": to}, auth=(SID, "sandbox-auth-token")).json()["messages"][
        0
    ]["body"]
    return re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]


def test_parallel_guesses_never_exceed_the_attempts_of_a_code(
    database: str, sandbox: Sandbox
) -> None:
    async def scenario(codes: SignInCodes, sessionmaker: Any) -> tuple[list[bool], int]:
        await codes.send(VICTIM, "203.0.113.1")
        right = await asyncio.to_thread(latest_code, sandbox, VICTIM.address)
        wrong = "000000" if right != "000000" else "111111"
        guesses = [codes.check(VICTIM, wrong, "203.0.113.2") for _ in range(8)]
        verdicts = await asyncio.gather(*guesses, codes.check(VICTIM, right, "203.0.113.2"))
        async with sessionmaker() as db:
            attempts = await db.scalar(select(SignInCode.attempts))
        return list(verdicts), int(attempts)

    verdicts, attempts = run_async(_with_codes(database, sandbox, scenario))
    assert attempts <= MAX_ATTEMPTS
    assert verdicts[:8] == [False] * 8
    # The right code wins only if it was checked before five wrong guesses killed it.
    assert verdicts[8] is (attempts < MAX_ATTEMPTS)


def test_parallel_requests_send_no_more_codes_than_allowed(database: str, sandbox: Sandbox) -> None:
    async def scenario(codes: SignInCodes, _: Any) -> list[Any]:
        number = Destination("sms", "+34600111502")
        sends = [codes.send(number, f"203.0.113.{n}") for n in range(SENDS_PER_DESTINATION + 5)]
        return list(await asyncio.gather(*sends, return_exceptions=True))

    outcomes = run_async(_with_codes(database, sandbox, scenario))
    assert sum(outcome is None for outcome in outcomes) == SENDS_PER_DESTINATION
    assert all(isinstance(outcome, TooManyAttempts) for outcome in outcomes if outcome is not None)


def test_a_newer_code_ends_the_older_one_and_a_used_code_is_dead(
    database: str, sandbox: Sandbox
) -> None:
    async def scenario(codes: SignInCodes, _: Any) -> list[bool]:
        destination = Destination("sms", "+34600111503")
        await codes.send(destination, "203.0.113.1")
        first = await asyncio.to_thread(latest_code, sandbox, destination.address)
        await codes.send(destination, "203.0.113.1")
        second = await asyncio.to_thread(latest_code, sandbox, destination.address)
        if first == second:
            return [False, True, False]  # the same six digits twice: nothing to tell apart
        return [
            await codes.check(destination, first, "203.0.113.1"),
            await codes.check(destination, second, "203.0.113.1"),
            await codes.check(destination, second, "203.0.113.1"),
        ]

    old, new, again = run_async(_with_codes(database, sandbox, scenario))
    assert (old, new, again) == (False, True, False)


def test_someone_elses_wrong_guesses_do_not_lock_the_citizen_out(
    database: str, sandbox: Sandbox
) -> None:
    async def scenario(codes: SignInCodes, _: Any) -> bool:
        await codes.send(VICTIM, "203.0.113.66")  # the attacker asks for a code, then guesses
        for _ in range(MAX_ATTEMPTS + 5):
            await codes.check(VICTIM, "999999", "203.0.113.66")
        await codes.send(VICTIM, "198.51.100.7")  # the citizen asks for their own
        code = await asyncio.to_thread(latest_code, sandbox, VICTIM.address)
        return await codes.check(VICTIM, code, "198.51.100.7")

    assert run_async(_with_codes(database, sandbox, scenario)) is True


def test_wrong_guesses_are_limited_per_address(database: str, sandbox: Sandbox) -> None:
    async def scenario(codes: SignInCodes, _: Any) -> None:
        for n in range(2):  # two numbers, five wrong guesses each: ten
            destination = Destination("sms", f"+3460011160{n}")
            await codes.send(destination, "203.0.113.99")
            for _ in range(5):
                await codes.check(destination, "999999", "203.0.113.99")
        await codes.check(Destination("sms", "+34600111609"), "999999", "203.0.113.99")

    assert WRONG_GUESSES_PER_ADDRESS == 10  # as the README says
    with pytest.raises(TooManyAttempts):
        run_async(_with_codes(database, sandbox, scenario))


def test_wrong_guesses_are_limited_per_number_from_everyone_together(
    database: str, sandbox: Sandbox
) -> None:
    async def scenario(codes: SignInCodes, _: Any) -> list[Any]:
        number = Destination("sms", "+34600111610")
        await codes.send(number, "203.0.113.1")
        guesses = [
            codes.check(number, "999999", f"198.51.100.{n}")
            for n in range(WRONG_GUESSES_PER_DESTINATION + 10)
        ]
        return list(await asyncio.gather(*guesses, return_exceptions=True))

    outcomes = run_async(_with_codes(database, sandbox, scenario))
    assert outcomes.count(False) == WRONG_GUESSES_PER_DESTINATION == 30
    assert all(isinstance(outcome, TooManyAttempts) for outcome in outcomes if outcome is not False)


def test_a_right_code_is_not_counted_as_a_wrong_guess(database: str, sandbox: Sandbox) -> None:
    async def scenario(codes: SignInCodes, _: Any) -> list[bool]:
        signed_in = []
        for n in range(WRONG_GUESSES_PER_ADDRESS + 2):
            destination = Destination("sms", f"+346001117{n:02d}")
            await codes.send(destination, f"192.0.2.{n}")
            code = await asyncio.to_thread(latest_code, sandbox, destination.address)
            signed_in.append(await codes.check(destination, code, "203.0.113.77"))
        return signed_in

    assert run_async(_with_codes(database, sandbox, scenario)) == [True] * 12
