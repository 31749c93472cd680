"""Write to the assistant as Twilio would deliver an SMS or WhatsApp message, and print the
replies it sends back (read from the sandbox's Twilio message list).

    .venv/bin/python scripts/text_the_bot.py "hello"
    .venv/bin/python scripts/text_the_bot.py --whatsapp --from +212600111222 "وين طلبي FD-..."

Needs `make run` (portal, bot and sandbox) or the --portal and --sandbox addresses of others.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from portal.settings import SANDBOX_TWILIO_ACCOUNT_SID, SANDBOX_TWILIO_AUTH_TOKEN

# The same variables as the portal's, so that both sides agree.
SANDBOX_SID = os.environ.get("TWILIO_ACCOUNT_SID", SANDBOX_TWILIO_ACCOUNT_SID)
SANDBOX_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", SANDBOX_TWILIO_AUTH_TOKEN)
OUR_NUMBER = os.environ.get("FRONTDOOR_TWILIO_FROM_NUMBER", "+15550001111")


def messages_url(sandbox: str) -> str:
    return f"{sandbox}/twilio/2010-04-01/Accounts/{SANDBOX_SID}/Messages.json"


def post_message(
    client: httpx.Client,
    portal: str,
    sender: str,
    text: str,
    signature: str | None = None,
    **fields: str,
) -> httpx.Response:
    """POST the form Twilio sends for one incoming message, signed as Twilio signs it
    (`signature` replaces the right one, to test refusals)."""
    to = f"whatsapp:{OUR_NUMBER}" if sender.startswith("whatsapp:") else OUR_NUMBER
    form = {
        "MessageSid": f"SM{time.time_ns():032x}"[:34],
        "AccountSid": SANDBOX_SID,
        "From": sender,
        "To": to,
        "Body": text,
        "NumMedia": "0",
        **fields,
    }
    url = f"{portal}/webhooks/twilio"
    if signature is None:
        signature = RequestValidator(SANDBOX_TOKEN).compute_signature(url, form)
    return client.post(
        url,
        content=urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )


def received(client: httpx.Client, sandbox: str, address: str) -> list[str]:
    """Every message Twilio was asked to send to `address`, oldest first."""
    answer = client.get(
        messages_url(sandbox), params={"To": address}, auth=(SANDBOX_SID, SANDBOX_TOKEN)
    )
    answer.raise_for_status()
    return [message["body"] for message in reversed(answer.json()["messages"])]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("text")
    parser.add_argument("--from", dest="sender", default="+34600999888")
    parser.add_argument("--whatsapp", action="store_true")
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--sandbox", default="http://127.0.0.1:8100")
    args = parser.parse_args()
    sender = f"whatsapp:{args.sender}" if args.whatsapp else args.sender
    with httpx.Client(timeout=20) as client:
        before = len(received(client, args.sandbox, sender))
        answer = post_message(client, args.portal, sender, args.text)
        if answer.status_code != 200:
            print(f"the portal answered {answer.status_code}: {answer.text}", file=sys.stderr)
            return 1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            replies = received(client, args.sandbox, sender)[before:]
            if replies:
                time.sleep(0.3)  # a reply may come in several messages
                for reply in received(client, args.sandbox, sender)[before:]:
                    print(reply, end="\n\n")
                return 0
            time.sleep(0.05)
    print("no reply within 10 s (is the bot running? see var/bot.log)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
