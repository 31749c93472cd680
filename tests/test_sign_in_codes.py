"""Sign in with a one-time code by SMS or email; codes read back from the sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from conftest import Sandbox, migrate, run_async
from portal.applications.references import new_reference
from portal.database import make_engine
from portal.identity.models import SignInCode
from tests.support import csrf_token

SID = "AC00000000000000000000000000000000"


@pytest.fixture(params=["sqlite", "postgresql"])
def portal(
    request: pytest.FixtureRequest, portal_factory: Any, fresh_database: Callable[[str], str]
) -> TestClient[Any]:
    """A portal on a database of its own: the limits count everything sent from this address."""
    url = fresh_database(request.param)
    migrate(url)
    client: TestClient[Any] = portal_factory(database_url=url)
    client.database_url = url  # type: ignore[attr-defined]
    return client


def ask_for_code(portal: TestClient[Any], contact: str, language: str = "en") -> httpx.Response:
    token = csrf_token(portal.get("/sign-in/code").text)
    response: httpx.Response = portal.post(
        "/sign-in/code",
        data={"_csrf_token": token, "contact": contact},
        headers={"accept-language": language},
        follow_redirects=False,
    )
    return response


def enter_code(portal: TestClient[Any], code: str, language: str = "en") -> httpx.Response:
    token = csrf_token(portal.get("/sign-in/code/check").text)
    response: httpx.Response = portal.post(
        "/sign-in/code/check",
        data={"_csrf_token": token, "code": code},
        headers={"accept-language": language},
        follow_redirects=False,
    )
    return response


def sms_code(sandbox: Sandbox, to: str) -> tuple[str, str]:
    url = f"{sandbox.url}/twilio/2010-04-01/Accounts/{SID}/Messages.json"
    messages = httpx.get(url, params={"To": to}, auth=(SID, "sandbox-auth-token")).json()[
        "messages"
    ]
    body = messages[0]["body"]
    return re.search(r"\b(\d{6})\b", body).group(1), body  # type: ignore[union-attr]


def test_a_code_by_text_message_signs_the_citizen_in(
    portal: TestClient[Any], sandbox: Sandbox
) -> None:
    sent = ask_for_code(portal, "600 111 222", language="es")  # a national number: +34 by default
    assert sent.status_code == 303 and sent.headers["location"] == "/sign-in/code/check"
    code, body = sms_code(sandbox, "+34600111222")
    assert "Riverside" in body and "10" in body
    page = portal.get("/sign-in/code/check").text
    assert "••••••••1222" in page
    signed_in = enter_code(portal, code)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account"
    assert "+34600111222" in portal.get("/account").text


def test_a_code_by_email_signs_the_citizen_in(portal: TestClient[Any], sandbox: Sandbox) -> None:
    assert ask_for_code(portal, "  Ana@Example.org ").status_code == 303
    [mail] = sandbox.mail(to="ana@example.org")
    code = re.search(r"\b(\d{6})\b", mail["text"]).group(1)  # type: ignore[union-attr]
    assert mail["subject"] == "Your sign-in code"
    assert enter_code(portal, f"{code[:3]} {code[3:]}").status_code == 303  # spaces are forgiven
    assert "ana@example.org" in portal.get("/account").text


def test_only_a_hash_of_the_code_is_kept(portal: TestClient[Any], sandbox: Sandbox) -> None:
    assert ask_for_code(portal, "+34600111323").status_code == 303
    code, _ = sms_code(sandbox, "+34600111323")

    async def stored() -> list[str]:
        engine = make_engine(portal.database_url)  # type: ignore[attr-defined]
        async with engine.connect() as connection:
            rows = (await connection.execute(select(SignInCode.code_hash))).scalars().all()
        await engine.dispose()
        return list(rows)

    [digest] = run_async(stored())
    assert code not in digest and len(digest) == 64


def test_a_code_works_once(portal: TestClient[Any], sandbox: Sandbox) -> None:
    assert ask_for_code(portal, "+34600111324").status_code == 303
    code, _ = sms_code(sandbox, "+34600111324")
    assert enter_code(portal, code).status_code == 303
    portal.cookies.clear()
    assert ask_for_code(portal, "+34600111324")  # a new session waiting for a code
    assert enter_code(portal, code).status_code == 400


def test_bad_input_keeps_what_was_typed_and_says_why(portal: TestClient[Any]) -> None:
    response = ask_for_code(portal, "not a number", language="es")
    assert response.status_code == 400
    assert 'value="not a number"' in response.text
    assert 'href="#contact"' in response.text
    assert "govuk-error-message" in response.text


def test_five_wrong_guesses_kill_the_code(portal: TestClient[Any], sandbox: Sandbox) -> None:
    assert ask_for_code(portal, "+34600111325").status_code == 303
    code, _ = sms_code(sandbox, "+34600111325")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        answer = enter_code(portal, wrong)
        assert answer.status_code == 400 and "That code is not right" in answer.text
    assert enter_code(portal, code).status_code == 400


def test_sending_is_limited_per_destination(portal: TestClient[Any], sandbox: Sandbox) -> None:
    for _ in range(3):
        assert ask_for_code(portal, "+34600111327").status_code == 303
    limited = ask_for_code(portal, "+34600111327", language="ar")
    assert limited.status_code == 429
    assert "15" in limited.text and "رموز" in limited.text


def test_sending_is_limited_per_address(portal: TestClient[Any], sandbox: Sandbox) -> None:
    for number in range(10):
        assert ask_for_code(portal, f"+346001114{number:02d}").status_code == 303
    assert ask_for_code(portal, "+34600111499").status_code == 429


def test_a_failing_sms_service_gets_a_clear_message(
    portal: TestClient[Any], sandbox: Sandbox
) -> None:
    sandbox.set_fault("twilio", down=True)
    response = ask_for_code(portal, "+34600111328")
    assert response.status_code == 503
    assert "We could not send the code. Try again later." in response.text


def test_a_code_sign_in_starts_a_fresh_session(portal: TestClient[Any], sandbox: Sandbox) -> None:
    """Nothing this browser held before (here: a bill someone looked up) carries over."""
    reference = new_reference("BL")
    bill = {"reference": reference, "description": "Parking fine", "amount_minor": 6000}
    httpx.post(f"{sandbox.url}/_sandbox/bills", json=bill).raise_for_status()
    token = csrf_token(portal.get("/pay-a-bill").text)
    portal.post("/pay-a-bill", data={"_csrf_token": token, "reference": reference})
    assert portal.get(f"/pay-a-bill/{reference}", follow_redirects=False).status_code == 200
    before = portal.cookies.get("frontdoor_session")
    assert ask_for_code(portal, "600 111 333").status_code == 303
    assert enter_code(portal, sms_code(sandbox, "+34600111333")[0]).status_code == 303
    assert portal.cookies.get("frontdoor_session") not in {None, before}
    assert portal.get(f"/pay-a-bill/{reference}", follow_redirects=False).status_code == 303
