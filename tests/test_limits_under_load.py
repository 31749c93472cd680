"""Every rate limit holds exactly under 100+ truly simultaneous requests.

The portal is served by its real ASGI server with two workers (as in production), once with
its counters in PostgreSQL and once in Redis; the requests come at once from one
asyncio.gather over real HTTP. A trusted proxy's X-Forwarded-For names the citizen's address,
so each test speaks from addresses of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
import redis

from conftest import ROOT, Sandbox, free_port, migrate, run_async, wait_for
from portal.applications.references import new_reference
from tests.support import csrf_token

REDIS_URL = os.environ.get("FRONTDOOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
# Both files flush this Redis database: with pytest-xdist they run on one worker.
pytestmark = pytest.mark.xdist_group("redis-14")
AT_ONCE = 120
BILL_LOOKUPS_PER_ADDRESS = 50  # ten times the default of 5 a minute
CHATS_PER_ADDRESS = 200
FEEDBACK_PER_ADDRESS = 10  # the default of FRONTDOOR_FEEDBACK_PER_MINUTE
# The README's limits on sign-in codes, every 15 minutes.
SENDS_PER_ADDRESS = 10
SENDS_PER_DESTINATION = 10  # from everyone together; 3 from any one address
WRONG_GUESSES_PER_ADDRESS = 10
WRONG_GUESSES_PER_NUMBER = 30  # from everyone together
_addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())
_numbers = (f"+34611{n:06d}" for n in itertools.count(1))


@dataclass(frozen=True)
class Served:
    url: str
    database: str  # psycopg URL, to count rows

    def count(self, sql: str, *params: Any) -> int:
        with psycopg.connect(self.database) as connection:
            row = connection.execute(sql, params).fetchone()
        return int(row[0]) if row else 0


@pytest.fixture(scope="module", params=["postgresql", "redis"])
def served(
    request: pytest.FixtureRequest,
    sandbox_process: Sandbox,
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """The portal with two workers on PostgreSQL, its counters in the database or in Redis."""
    database = postgres_database()
    migrate(database)
    port = free_port()
    env = {
        **os.environ,
        "FRONTDOOR_ENV": "test",
        "FRONTDOOR_PORT": str(port),
        "FRONTDOOR_WORKERS": "2",
        "FRONTDOOR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "FRONTDOOR_DATABASE_URL": database,
        "FRONTDOOR_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "FRONTDOOR_TRUSTED_PROXIES": json.dumps(["127.0.0.1/32"]),
        "FRONTDOOR_TWILIO_API_URL": f"{sandbox_process.url}/twilio",
        "FRONTDOOR_SMTP_PORT": str(sandbox_process.smtp_port),
        "FRONTDOOR_BILLS_URL": f"{sandbox_process.url}/bills",
        "FRONTDOOR_CITIZEN_OIDC_ISSUER": f"{sandbox_process.url}/oidc/citizen",
        "FRONTDOOR_STAFF_OIDC_ISSUER": f"{sandbox_process.url}/oidc/staff",
        "FRONTDOOR_RASA_URL": f"http://127.0.0.1:{free_port()}",  # no bot: it says sorry
        "FRONTDOOR_LOG_LEVEL": "WARNING",
    }
    env.pop("FRONTDOOR_REDIS_URL", None)
    if request.param == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
        env["FRONTDOOR_REDIS_URL"] = REDIS_URL
    log = (tmp_path_factory.mktemp("logs") / "portal.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield Served(f"http://127.0.0.1:{port}", database.replace("+psycopg", ""))
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        if request.param == "redis":
            redis.Redis.from_url(REDIS_URL).flushdb()


def _client(served: Served) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=served.url,
        timeout=60,
        limits=httpx.Limits(max_connections=AT_ONCE * 3, max_keepalive_connections=0),
    )


async def _form(client: httpx.AsyncClient, page: str, address: str) -> tuple[str, str]:
    """A browser's first visit from `address`: the cookies it was given and the form's token."""
    response = await client.get(page, headers={"x-forwarded-for": address})
    assert response.status_code == 200, response.text
    return _cookies(response), csrf_token(response.text)


def _cookies(response: httpx.Response) -> str:
    return "; ".join(f"{name}={value}" for name, value in response.cookies.items())


async def _at_once(
    client: httpx.AsyncClient,
    path: str,
    forms: list[dict[str, str]],
    addresses: list[str],
    cookie: str,
    **headers: str,
) -> list[httpx.Response]:
    """Every form posted at the same moment, each from its address, all with one cookie header
    (the client keeps no cookies of its own, so no answer changes the next request)."""
    client.cookies.clear()

    def post(form: dict[str, str], address: str) -> Any:
        sent = {"x-forwarded-for": address, "cookie": cookie, **headers}
        return client.post(path, data=form, headers=sent)

    return list(await asyncio.gather(*map(post, forms, addresses)))


def _statuses(responses: list[httpx.Response], answer: int) -> tuple[int, int]:
    """(answered, limited): how many got past the limit with the `answer` a request within it
    gets, how many were told to wait. Any other answer (a refused token, a lost session sent
    back to the start) fails here by name: it would otherwise pass for one within the limit."""
    seen = Counter(response.status_code for response in responses)
    others = {
        f"{response.status_code} {response.headers.get('location', '')}{_error_of(response)}"
        for response in responses
        if response.status_code not in (answer, 429)
    }
    assert not others, (dict(seen), sorted(others))
    return seen[answer], seen[429]


def _error_of(response: httpx.Response) -> str:
    """The page's error message, as the person would read it."""
    found = re.search(r'class="govuk-error-message"[^>]*>(.*?)</p>', response.text, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip() if found else response.text[:80]


def test_bill_look_ups_from_one_address_hold_at_the_limit(served: Served) -> None:
    address = next(_addresses)

    async def scenario() -> list[httpx.Response]:
        async with _client(served) as client:
            cookie, token = await _form(client, "/pay-a-bill", address)
            forms = [
                {"_csrf_token": token, "reference": new_reference("BL")} for _ in range(AT_ONCE)
            ]
            return await _at_once(client, "/pay-a-bill", forms, [address] * AT_ONCE, cookie)

    responses = run_async(scenario())
    assert _statuses(responses, 400) == (
        BILL_LOOKUPS_PER_ADDRESS,
        AT_ONCE - BILL_LOOKUPS_PER_ADDRESS,
    )
    limited = next(response for response in responses if response.status_code == 429)
    assert "You have looked up too many references" in limited.text


def test_web_chat_starts_from_one_address_hold_at_the_limit(served: Served) -> None:
    address = next(_addresses)
    at_once = CHATS_PER_ADDRESS + 50
    before = served.count("SELECT count(*) FROM conversations")

    async def scenario() -> list[httpx.Response]:
        async with _client(served) as client:
            cookie, token = await _form(client, "/chat", address)
            forms = [{"_csrf_token": token, "message": "Hola"}] * at_once
            return await _at_once(client, "/chat", forms, [address] * at_once, cookie)

    responses = run_async(scenario())
    assert _statuses(responses, 303) == (CHATS_PER_ADDRESS, at_once - CHATS_PER_ADDRESS)
    # A refused start left nothing behind: one conversation per start let through.
    assert served.count("SELECT count(*) FROM conversations") - before == CHATS_PER_ADDRESS
    limited = next(response for response in responses if response.status_code == 429)
    assert "You have sent a lot of messages" in limited.text


def test_feedback_from_one_address_holds_at_the_limit(served: Served) -> None:
    address = next(_addresses)
    before = served.count("SELECT count(*) FROM page_feedback")

    async def scenario() -> tuple[list[httpx.Response], httpx.Response]:
        async with _client(served) as client:
            cookie, token = await _form(client, "/", address)
            forms = [{"_csrf_token": token, "path": "/", "useful": "yes"}] * AT_ONCE
            responses = await _at_once(client, "/feedback", forms, [address] * AT_ONCE, cookie)
            [swapped] = await _at_once(
                client, "/feedback", forms[:1], [address], cookie, **{"hx-request": "true"}
            )
            return responses, swapped

    responses, swapped = run_async(scenario())
    assert _statuses(responses, 303) == (FEEDBACK_PER_ADDRESS, AT_ONCE - FEEDBACK_PER_ADDRESS)
    assert served.count("SELECT count(*) FROM page_feedback") - before == FEEDBACK_PER_ADDRESS
    limited = next(response for response in responses if response.status_code == 429)
    assert "You have sent a lot of answers" in limited.text  # a page of its own
    assert '<h1 class="govuk-heading-l">Too many attempts</h1>' in limited.text
    # With htmx, the message takes the question's place.
    assert swapped.status_code == 429 and "You have sent a lot of answers" in swapped.text
    assert "<form" not in swapped.text


def test_codes_to_many_numbers_from_one_address_hold_at_the_limit(served: Served) -> None:
    address = next(_addresses)

    async def scenario() -> list[httpx.Response]:
        async with _client(served) as client:
            cookie, token = await _form(client, "/sign-in/code", address)
            forms = [{"_csrf_token": token, "contact": next(_numbers)} for _ in range(AT_ONCE)]
            return await _at_once(client, "/sign-in/code", forms, [address] * AT_ONCE, cookie)

    responses = run_async(scenario())
    assert _statuses(responses, 303) == (SENDS_PER_ADDRESS, AT_ONCE - SENDS_PER_ADDRESS)
    sent = served.count("SELECT count(*) FROM sign_in_codes WHERE ip = %s", address)
    assert sent == SENDS_PER_ADDRESS


def test_codes_to_one_number_from_many_addresses_hold_at_the_limit(served: Served) -> None:
    number = next(_numbers)
    addresses = [next(_addresses) for _ in range(AT_ONCE)]

    async def scenario() -> list[httpx.Response]:
        async with _client(served) as client:
            cookie, token = await _form(client, "/sign-in/code", addresses[0])
            forms = [{"_csrf_token": token, "contact": number}] * AT_ONCE
            return await _at_once(client, "/sign-in/code", forms, addresses, cookie)

    responses = run_async(scenario())
    assert _statuses(responses, 303) == (SENDS_PER_DESTINATION, AT_ONCE - SENDS_PER_DESTINATION)
    sent = served.count("SELECT count(*) FROM sign_in_codes WHERE destination = %s", number)
    assert sent == SENDS_PER_DESTINATION


def test_someone_elses_requests_do_not_block_a_number(served: Served) -> None:
    """Three codes asked from one address use up that address's share for the number, not the
    number's: the citizen, elsewhere, still gets one."""
    number, attacker, citizen = next(_numbers), next(_addresses), next(_addresses)

    async def scenario() -> tuple[list[int], int]:
        async with _client(served) as client:
            cookie, token = await _form(client, "/sign-in/code", attacker)
            forms = [{"_csrf_token": token, "contact": number}] * 4
            asked = await _at_once(client, "/sign-in/code", forms, [attacker] * 4, cookie)
            cookie, token = await _form(client, "/sign-in/code", citizen)
            form = {"_csrf_token": token, "contact": number}
            own = await _at_once(client, "/sign-in/code", [form], [citizen], cookie)
            return sorted(response.status_code for response in asked), own[0].status_code

    attackers, citizens = run_async(scenario())
    assert attackers == [303, 303, 303, 429]
    assert citizens == 303


async def _pending_code(client: httpx.AsyncClient, number: str, address: str) -> tuple[str, str]:
    """A code sent to `number`: the browser's cookies (holding what it waits for) and token."""
    cookie, token = await _form(client, "/sign-in/code", address)
    sent = await client.post(
        "/sign-in/code",
        data={"_csrf_token": token, "contact": number},
        headers={"x-forwarded-for": address, "cookie": cookie},
    )
    assert sent.status_code == 303, sent.text
    jar = dict(part.split("=", 1) for part in cookie.split("; ") if part)
    jar.update(sent.cookies.items())
    cookie = "; ".join(f"{name}={value}" for name, value in jar.items())
    page = await client.get(
        "/sign-in/code/check", headers={"x-forwarded-for": address, "cookie": cookie}
    )
    assert "Enter the code" in page.text or page.status_code == 200, page.text
    return cookie, csrf_token(page.text)


def test_wrong_codes_from_one_address_hold_at_the_limit(served: Served) -> None:
    number, address = next(_numbers), next(_addresses)

    async def scenario() -> list[httpx.Response]:
        async with _client(served) as client:
            cookie, token = await _pending_code(client, number, address)
            forms = [{"_csrf_token": token, "code": "000000"}] * AT_ONCE
            return await _at_once(client, "/sign-in/code/check", forms, [address] * AT_ONCE, cookie)

    responses = run_async(scenario())
    assert _statuses(responses, 400) == (
        WRONG_GUESSES_PER_ADDRESS,
        AT_ONCE - WRONG_GUESSES_PER_ADDRESS,
    )
    wrong = [response for response in responses if response.status_code == 400]
    assert len(wrong) == WRONG_GUESSES_PER_ADDRESS  # the code was never right by chance
    limited = next(response for response in responses if response.status_code == 429)
    assert re.search(r"Too many wrong codes", limited.text)


def test_wrong_codes_for_one_number_from_many_addresses_hold_at_the_limit(
    served: Served,
) -> None:
    number = next(_numbers)
    addresses = [next(_addresses) for _ in range(AT_ONCE)]

    async def scenario() -> list[httpx.Response]:
        async with _client(served) as client:
            cookie, token = await _pending_code(client, number, addresses[0])
            forms = [{"_csrf_token": token, "code": "000000"}] * AT_ONCE
            return await _at_once(client, "/sign-in/code/check", forms, addresses, cookie)

    responses = run_async(scenario())
    assert _statuses(responses, 400) == (
        WRONG_GUESSES_PER_NUMBER,
        AT_ONCE - WRONG_GUESSES_PER_NUMBER,
    )
