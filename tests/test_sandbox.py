"""The sandbox speaks Twilio's and SMTP's contracts well enough for the real client libraries."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from conftest import Sandbox

SID = "AC00000000000000000000000000000000"
TOKEN = "sandbox-auth-token"


def twilio(sandbox: Sandbox, token: str = TOKEN) -> Client:
    client = Client(SID, token)
    client.api.base_url = f"{sandbox.url}/twilio"
    return client


def test_the_official_twilio_library_sends_and_reads_back_sms_and_whatsapp(
    sandbox: Sandbox,
) -> None:
    client = twilio(sandbox)
    own = "+34600123987"  # no other test texts it: the sandbox keeps every message of the run
    sms = client.messages.create(to=own, from_="+15550001111", body="Su código es 123456")
    whatsapp = client.messages.create(
        to=f"whatsapp:{own}",
        from_="whatsapp:+15550001111",
        media_url=["https://example.org/a.jpg"],
    )
    assert sms.sid.startswith("SM") and sms.status == "queued"
    assert [m.body for m in client.messages.list(to=own)] == ["Su código es 123456"]
    assert client.messages(whatsapp.sid).fetch().num_media == "1"
    assert client.api.accounts(SID).fetch().status == "active"


def test_wrong_credentials_get_twilios_authenticate_error(sandbox: Sandbox) -> None:
    with pytest.raises(TwilioRestException) as error:
        twilio(sandbox, token="wrong").messages.create(
            to="+34600111222", from_="+15550001111", body="x"
        )
    assert error.value.status == 401
    assert error.value.code == 20003


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [("+34 600", "hi", 21211), ("+34600111222", "", 21602), ("whatsapp:+34600111222", "hi", 21910)],
)
def test_bad_messages_get_twilios_error_codes(
    sandbox: Sandbox, to: str, body: str, code: int
) -> None:
    with pytest.raises(TwilioRestException) as error:
        twilio(sandbox).messages.create(to=to, from_="+15550001111", body=body)
    assert error.value.code == code


def test_mail_sent_over_smtp_is_listed_as_json(sandbox: Sandbox) -> None:
    message = EmailMessage()
    message["From"] = "no-reply@frontdoor.example"
    message["To"] = "ana@example.org"
    message["Subject"] = "Su código"
    message.set_content("Su código es 654321")
    with smtplib.SMTP("127.0.0.1", sandbox.smtp_port) as smtp:
        smtp.send_message(message)
    [received] = sandbox.mail(to="ana@example.org")
    assert received["subject"] == "Su código"
    assert received["text"] == "Su código es 654321\n"
    assert sandbox.mail(to="someone@else.org") == []


def test_fault_switches_make_a_backend_fail_slow_or_down(sandbox: Sandbox) -> None:
    account = f"{sandbox.url}/twilio/2010-04-01/Accounts/{SID}.json"
    auth = (SID, TOKEN)
    sandbox.set_fault("twilio", error_rate=1.0)
    assert httpx.get(account, auth=auth).status_code == 500
    sandbox.set_fault("twilio", down=True)
    assert httpx.get(account, auth=auth).status_code == 503
    sandbox.set_fault("twilio", delay_ms=300)
    started = time.monotonic()
    assert httpx.get(account, auth=auth).status_code == 200
    assert time.monotonic() - started >= 0.3
    sandbox.reset()
    assert httpx.get(account, auth=auth).status_code == 200


def test_mail_down_refuses_delivery(sandbox: Sandbox) -> None:
    sandbox.set_fault("mail", down=True)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "x"
    message.set_content("x")
    with (
        smtplib.SMTP("127.0.0.1", sandbox.smtp_port) as smtp,
        pytest.raises(smtplib.SMTPDataError) as error,
    ):
        smtp.send_message(message)
    assert error.value.smtp_code == 421
    assert sandbox.mail() == []


def test_an_unknown_backend_cannot_be_switched(sandbox: Sandbox) -> None:
    assert httpx.put(f"{sandbox.url}/_sandbox/faults/nope", json={"down": True}).status_code == 404
