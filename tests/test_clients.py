"""The typed clients against the sandbox: answers parsed, failures mapped to the error tree."""

from __future__ import annotations

import secrets

import httpx
import pytest

from backend_clients.http import BackendRejected, BackendUnavailable, ClientConfig
from backend_clients.mail import MailClient, SmtpConfig
from backend_clients.twilio import TwilioClient
from conftest import Sandbox, free_port

SID = "AC00000000000000000000000000000000"


def client(base_url: str, token: str = "sandbox-auth-token", timeout: float = 2.0) -> TwilioClient:
    return TwilioClient(
        ClientConfig(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            auth=(SID, token),
            headers=lambda: {"X-Request-ID": "client-test-0001"},
        ),
        account_sid=SID,
    )


async def test_send_and_list_messages_with_the_request_id(sandbox: Sandbox) -> None:
    twilio = client(f"{sandbox.url}/twilio")
    # A number of this test's own: the sandbox keeps every message its process was sent, and
    # other tests in the same process text the sandbox's citizens.
    to = f"+4474009{secrets.randbelow(10**5):05d}"
    sent = await twilio.send_message(to=to, from_="+15550001111", body="Hello")
    [listed] = await twilio.list_messages(to=to)
    await twilio.aclose()
    assert listed.sid == sent.sid and listed.from_ == "+15550001111" and listed.body == "Hello"
    assert {item["request_id"] for item in sandbox.requests("twilio")} == {"client-test-0001"}


async def test_refusals_and_outages_are_told_apart(sandbox: Sandbox) -> None:
    with pytest.raises(BackendRejected) as refused:
        await client(f"{sandbox.url}/twilio", token="wrong").fetch_account()
    assert refused.value.status_code == 401
    sandbox.set_fault("twilio", down=True)
    with pytest.raises(BackendUnavailable):
        await client(f"{sandbox.url}/twilio").fetch_account()


async def test_a_slow_backend_times_out(sandbox: Sandbox) -> None:
    sandbox.set_fault("twilio", delay_ms=1500)
    with pytest.raises(BackendUnavailable, match="timed out"):
        await client(f"{sandbox.url}/twilio", timeout=0.3).fetch_account()


async def test_an_unreachable_backend_is_unavailable() -> None:
    with pytest.raises(BackendUnavailable, match="unreachable"):
        await client(f"http://127.0.0.1:{free_port()}").fetch_account()


async def test_mail_is_delivered_with_the_request_id(sandbox: Sandbox) -> None:
    mail = MailClient(SmtpConfig("127.0.0.1", sandbox.smtp_port))
    await mail.ping()
    await mail.send(
        to="ana@example.org", subject="Hola", text="Hola Ana", request_id="mail-test-0001"
    )
    [received] = sandbox.mail(to="ana@example.org")
    assert received["text"] == "Hola Ana\n"
    assert received["request_id"] == "mail-test-0001"
    sandbox.set_fault("mail", down=True)
    with pytest.raises(BackendUnavailable):
        await mail.send(to="ana@example.org", subject="x", text="x")
    with pytest.raises(BackendUnavailable):
        await mail.ping()
