"""How long a citizen waits for the assistant: from a Twilio webhook sent to the portal until
the reply reaches Twilio's messages API, p50 and p95 over 200 messages, in one run.

Starts the sandbox, the portal (granian, as production) and the bot (Rasa, the current model)
on free ports with throwaway PostgreSQL databases (the portal's and the bot's tracker store),
then sends signed SMS and WhatsApp webhooks in English, Spanish and Arabic one after another and
polls the sandbox's Twilio message list (every millisecond) until each reply is there. The
figure is therefore an upper bound of "webhook received -> reply handed to Twilio": it also
holds the webhook's own HTTP exchange and the polling. Also printed: how long Twilio's webhook
request waits for the portal's answer (the bot is asked after that answer).

Usage: .venv/bin/python scripts/bot_latency.py [--messages 200]
       (needs `make bot` and PostgreSQL on 127.0.0.1:5432)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench import free_port, throwaway_database, wait
from text_the_bot import post_message, received

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [
    "hello",
    "what can you do?",
    "how do I open a business",
    "I want to pay BL-7K3M-9QX1",
    "hola",
    "quiero abrir un negocio",
    "gracias",
    "مرحبا",
    "كيف أفتح مشروع تجاري",
    "شكرا جزيلا",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def send(
    client: httpx.Client, base: str, sandbox: str, sender: str, text: str
) -> tuple[float, float]:
    """(seconds until the webhook was answered, seconds until the reply was at Twilio)."""
    before = len(received(client, sandbox, sender))
    start = time.perf_counter()
    answered = post_message(client, base, sender, text)
    webhook = time.perf_counter() - start
    assert answered.status_code == 200, answered.text
    while len(received(client, sandbox, sender)) <= before:
        if time.perf_counter() - start > 15:
            raise RuntimeError(f"no reply to {text!r}")
        time.sleep(0.001)
    return webhook, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with (
        throwaway_database(args.postgres) as portal_db,
        throwaway_database(args.postgres, "frontdoor_bench_bot") as bot_db,
        tempfile.TemporaryDirectory() as var,
    ):
        return run(args, str(portal_db), str(bot_db), var)


def run(args: argparse.Namespace, database: str, tracker: str, var: str) -> int:
    port, sandbox_port, smtp_port, bot_port = free_port(), free_port(), free_port(), free_port()
    base, sandbox = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}"
    env = {
        **os.environ,
        "FRONTDOOR_ENV": "test",
        "FRONTDOOR_PORT": str(port),
        "FRONTDOOR_PUBLIC_URL": base,
        "FRONTDOOR_VAR_DIR": var,
        "FRONTDOOR_DATABASE_URL": database,
        "FRONTDOOR_LOG_LEVEL": "WARNING",
        "FRONTDOOR_TWILIO_API_URL": f"{sandbox}/twilio",
        "FRONTDOOR_SMTP_PORT": str(smtp_port),
        "FRONTDOOR_BILLS_URL": f"{sandbox}/bills",
        "FRONTDOOR_RASA_URL": f"http://127.0.0.1:{bot_port}",
        "FRONTDOOR_CHATBOT_TRACKER_URL": tracker.replace("+psycopg", ""),
    }
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True
    )
    processes = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "backend_clients.sandbox"),
                *("--port", str(sandbox_port), "--smtp-port", str(smtp_port)),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen([sys.executable, "-m", "portal", "serve"], cwd=ROOT, env=env),
        subprocess.Popen(
            [
                sys.executable,
                "scripts/bot.py",
                "serve",
                *("--port", str(bot_port), "--portal-url", base),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        wait(f"{sandbox}/healthz")
        wait(f"{base}/healthz")
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{bot_port}/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        with httpx.Client(timeout=20) as client:
            for index in range(10):  # warm up every worker and the bot
                send(client, base, sandbox, f"+3461000{index:04d}", MESSAGES[index % len(MESSAGES)])
            webhooks, replies = [], []
            for index in range(args.messages):
                channel = "whatsapp:" if index % 2 else ""
                sender = f"{channel}+3462000{index % 20:04d}"
                webhook, reply = send(
                    client, base, sandbox, sender, MESSAGES[index % len(MESSAGES)]
                )
                webhooks.append(webhook)
                replies.append(reply)
        print(
            f"{args.messages} messages, one at a time, SMS and WhatsApp, en/es/ar; portal: granian "
            f"2 workers; bot: Rasa 3.6, current model; PostgreSQL; {os.cpu_count()} cores"
        )
        for label, values in (("webhook answered", webhooks), ("reply at Twilio", replies)):
            print(
                f"{label:<18} p50 {statistics.median(values) * 1000:6.1f} ms   "
                f"p95 {percentile(values, 0.95) * 1000:6.1f} ms   max {max(values) * 1000:6.1f} ms"
            )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
