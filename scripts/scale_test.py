"""Several replicas, proven: two portals behind HAProxy, two outbox workers and two Rasa servers
(one tracker store in PostgreSQL, one Redis lock store) on one PostgreSQL and one Redis. Citizens
send "Open a business" applications (five departments each) and text the assistant, spread over
both portals by the load balancer, while the sandbox's departments are down, slow, erroring and
losing answers in turn and the script SIGKILLs a worker, a portal or a Rasa server at random
moments (restarting each, as a supervisor would). Then it waits for the outbox to drain and
prints what was lost, sent twice or answered out of order; each must be 0.

    .venv/bin/python scripts/scale_test.py                       # 1,000 applications, 500 texts
    .venv/bin/python scripts/scale_test.py --applications 30 --texts 30 --kill-every 8   # small

What is counted:
- applications: a reference a citizen was given whose departments did not all get their case
  (lost); a department with two cases for one reference, a mail to the markets office or a
  notification that arrived twice (duplicated);
- texts: a citizen's message with no reply, a reply never handed to Twilio (lost); Twilio given
  more replies than the conversation wrote (duplicated); a conversation whose messages were not
  answered in the order they came, or whose replies reached Twilio in another order than they
  were written (out of order). Replies saying the assistant could not answer are counted apart:
  they are answers, but a citizen would notice them.

Needs PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379 (databases 12 and 13 are emptied),
`make bot`, and HAProxy (installed from Debian when missing). Exits 1 when anything was lost,
duplicated or out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from bench import free_port, sign_in, throwaway_database, wait
from bot_latency import MESSAGES
from outbox_chaos import CAFE_DEPARTMENTS, CITIZENS, measure, outstanding, sandbox_counts
from text_the_bot import OUR_NUMBER, SANDBOX_SID, SANDBOX_TOKEN
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.journey_support import fill_business, submit  # noqa: E402  (a citizen's browser)

REDIS = "redis://127.0.0.1:6379"
# Flushed at the start: not 14 (tests/' rate-limit counters, run beside e2e/ in `make test`) nor
# 15 (the bench's sessions).
PORTAL_REDIS_DB, LOCK_STORE_DB = 12, 13
TWILIO_LIST = f"/twilio/2010-04-01/Accounts/{SANDBOX_SID}/Messages.json"
KINDS = ("worker", "portal", "rasa")  # what is killed, in turn
SORRY = "Sorry, the assistant cannot answer just now."
# The departments' faults, one phase after another (each --fault-seconds long).
PHASES: list[tuple[str, dict[str, Any]]] = [
    ("down", {"down": True}),
    ("slow (2 s answers)", {"delay_ms": 2000}),
    ("erroring (30 %)", {"error_rate": 0.3}),
    ("losing answers (20 %)", {"lost_answer_rate": 0.2}),
    ("well", {}),
]


def haproxy() -> str:
    """HAProxy from Debian, installed when missing."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "haproxy"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which("haproxy", path="/usr/sbin:/usr/bin:/sbin") or "haproxy"


def haproxy_config(portal: int, portals: list[int], rasa: int, rasas: list[int]) -> str:
    """Round robin over each pair, health-checked every half second; a request whose server
    died before answering is sent to the other one (Twilio's webhooks, a form post and a bot
    turn may all be repeated: each is taken in once)."""
    servers = "\n".join(f"  server portal{n} 127.0.0.1:{p} check" for n, p in enumerate(portals))
    bots = "\n".join(f"  server rasa{n} 127.0.0.1:{p} check" for n, p in enumerate(rasas))
    return f"""global
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 90s
  timeout server 90s
  retries 3
  option redispatch
  retry-on conn-failure empty-response
  default-server inter 500ms fall 2 rise 1
frontend portal
  bind 127.0.0.1:{portal}
  default_backend portals
backend portals
  balance roundrobin
  option httpchk GET /readyz
{servers}
frontend rasa
  bind 127.0.0.1:{rasa}
  default_backend rasas
backend rasas
  balance roundrobin
  option httpchk GET /
{bots}
"""


class Fleet:
    """Named processes, each in its own process group, SIGKILLed and restarted on demand."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.kills: Counter[str] = Counter()

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.commands[name] = (command, env)
        self._spawn(name)

    def _spawn(self, name: str) -> None:
        command, env = self.commands[name]
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )

    def kill(self, name: str) -> None:
        """SIGKILL the process and all it started (granian's workers, Rasa's), then start it
        again."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.kills[name.rstrip("0123456789")] += 1
        self._spawn(name)

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--texts", type=int, default=500, help="messages to the assistant")
    parser.add_argument("--kill-every", type=float, default=15, help="seconds between kills")
    parser.add_argument("--fault-seconds", type=float, default=20, help="each fault phase")
    parser.add_argument("--deadline", type=float, default=900, help="seconds to drain after")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    random.seed(args.seed)
    # Stopped from outside (a test's timeout): still stop every process and drop the databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    balancer = haproxy()
    with (
        throwaway_database(args.postgres, "frontdoor_scale") as database,
        throwaway_database(args.postgres, "frontdoor_scale_bot") as tracker,
        tempfile.TemporaryDirectory() as var,
    ):
        assert database is not None and tracker is not None
        return run(args, balancer, database, tracker, Path(var))


def run(args: argparse.Namespace, balancer: str, database: str, tracker: str, var: Path) -> int:
    for db in (PORTAL_REDIS_DB, LOCK_STORE_DB):
        subprocess.run(["redis-cli", "-n", str(db), "FLUSHDB"], check=False, capture_output=True)
    lb, rasa_lb = free_port(), free_port()
    portals, rasas = [free_port(), free_port()], [free_port(), free_port()]
    sandbox_port, smtp_port = free_port(), free_port()
    sandbox_url, base = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{lb}"
    logs = Path(os.environ.get("SCALE_LOGS") or var / "logs")
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FRONTDOOR_WORKERS": "1",
        "FRONTDOOR_PUBLIC_URL": base,  # Twilio signs the balancer's address
        "FRONTDOOR_VAR_DIR": str(var),  # uploads: one shared volume
        "FRONTDOOR_DATABASE_URL": database,
        "FRONTDOOR_REDIS_URL": f"{REDIS}/{PORTAL_REDIS_DB}",
        "FRONTDOOR_RASA_URL": f"http://127.0.0.1:{rasa_lb}",
        "FRONTDOOR_LOG_LEVEL": "WARNING",
        "FRONTDOOR_ENV": "test",
        "FRONTDOOR_METRICS_PORT": "0",
        "FRONTDOOR_WORKER_METRICS_PORT": "0",
        "FRONTDOOR_CITIZEN_OIDC_ISSUER": f"{sandbox_url}/oidc/citizen",
        "FRONTDOOR_STAFF_OIDC_ISSUER": f"{sandbox_url}/oidc/staff",
        "FRONTDOOR_TWILIO_API_URL": f"{sandbox_url}/twilio",
        "FRONTDOOR_DEPARTMENTS_URL": f"{sandbox_url}/departments",
        "FRONTDOOR_DOCUMENTS_URL": f"{sandbox_url}/documents",
        "FRONTDOOR_BILLS_URL": f"{sandbox_url}/bills",
        "FRONTDOOR_SMTP_PORT": str(smtp_port),
        "FRONTDOOR_BACKEND_TIMEOUT_SECONDS": "10",  # a department answering in 2 s is not late
        "FRONTDOOR_CHATBOT_TRACKER_URL": tracker.replace("+psycopg", "+psycopg2"),
        "FRONTDOOR_CHATBOT_LOCK_STORE_URL": f"{REDIS}/{LOCK_STORE_DB}",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True
    )
    config = var / "haproxy.cfg"
    config.write_text(haproxy_config(lb, portals, rasa_lb, rasas))
    fleet = Fleet(logs)
    python = sys.executable
    fleet.start(
        "sandbox",
        [
            python,
            "-m",
            "backend_clients.sandbox",
            "--port",
            str(sandbox_port),
            "--smtp-port",
            str(smtp_port),
        ],
        {**os.environ, "FRONTDOOR_SANDBOX_CASE_STEP_SECONDS": "0"},
    )
    try:
        fleet.start("haproxy", [balancer, "-f", str(config), "-db"], env)
        wait(f"{sandbox_url}/healthz")
        for n, port in enumerate(portals):
            fleet.start(
                f"portal{n}",
                [python, "-m", "portal", "serve"],
                {**env, "FRONTDOOR_PORT": str(port)},
            )
        for n, port in enumerate(rasas):  # one after the other: both create the tracker's tables
            bot = [python, "scripts/bot.py", "serve", "--port", str(port), "--portal-url", base]
            fleet.start(f"rasa{n}", bot, env)
            wait_long(f"http://127.0.0.1:{port}/", 180)
        for port in portals:
            wait(f"http://127.0.0.1:{port}/readyz")
        for n in range(2):
            fleet.start(f"worker{n}", [python, "-m", "portal", "worker"], env)
        wait(f"{base}/readyz")
        return drive(args, fleet, base, sandbox_url, database)
    finally:
        fleet.stop()


def wait_long(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not start in {seconds:.0f} s")


def drive(
    args: argparse.Namespace, fleet: Fleet, base: str, sandbox_url: str, database: str
) -> int:
    stop = threading.Event()
    chaos = [
        threading.Thread(target=faults, args=(sandbox_url, args.fault_seconds, stop)),
        threading.Thread(target=kills, args=(fleet, args.kill_every, stop)),
    ]
    clients = [retrying(sign_in(base, user)) for user in CITIZENS]
    started = time.monotonic()
    for thread in chaos:
        thread.start()
    try:
        texts: dict[str, list[str]] = {}
        talking = threading.Thread(target=lambda: texts.update(asyncio.run(talk(base, args.texts))))
        talking.start()
        references = applications(clients, args.applications)
        talking.join()
        sent = time.monotonic() - started
        every_kind(fleet, args.deadline)  # a short run goes on until each kind died once
        drained = drain(database, args.deadline)
    finally:
        stop.set()
        for thread in chaos:
            thread.join()
    for department in (*CAFE_DEPARTMENTS, "mail"):
        httpx.put(f"{sandbox_url}/_sandbox/faults/{department}", json={})
    elapsed = time.monotonic() - started
    report = asyncio.run(measure(database, references))
    report.pop("waits")
    cases = sandbox_counts(sandbox_url, references)
    report |= {name: cases[name] for name in ("duplicated cases", "department create calls")}
    report |= mailbox(sandbox_url, references)
    twilio = twilio_messages(sandbox_url)
    chat = asyncio.run(conversations(database, texts, twilio))
    report["text notifications twice"] = sum(
        n - 1
        for (to, body), n in Counter((m["to"], m["body"]) for m in twilio).items()
        if n > 1 and "FD-" in body and to.removeprefix("whatsapp:") not in texts
    )
    lost = report["lost"] + chat["messages never answered"] + chat["replies never sent"]
    duplicated = (
        report["duplicated cases"]
        + report["office mails twice"]
        + report["text notifications twice"]
        + chat["replies sent twice"]
    )
    print("replicas                    2 portals (HAProxy), 2 workers, 2 Rasa servers")
    print(f"kills                       {dict(fleet.kills)}")
    total_texts = sum(map(len, texts.values()))
    print(f"{'sent':<28}{len(references)} applications, {total_texts} texts, {sent:.0f} s")
    print(
        f"outbox drained after        {drained:.0f} s"
        if drained is not None
        else "outbox drained after        NEVER"
    )
    print(f"run took                    {elapsed:.0f} s")
    for name, value in {**report, **chat}.items():
        print(f"{name:<28}{value}")
    print(f"LOST                        {lost}")
    print(f"DUPLICATED                  {duplicated}")
    print(f"OUT OF ORDER                {chat['conversations out of order']}")
    bad = lost + duplicated + chat["conversations out of order"] + (drained is None)
    return 1 if bad else 0


def mailbox(sandbox_url: str, references: list[str]) -> dict[str, int]:
    """The mail as the recipients' mailboxes file it, by Message-ID. The markets office must
    hold one mail per application. SMTP takes no idempotency key: a mail whose answer was lost
    is sent again with the same Message-ID (made from the outbox key), and the mailbox keeps one
    (counted apart: a copy no reader sees)."""
    mail = httpx.get(f"{sandbox_url}/mail/messages").json()["messages"]
    wanted = set(references)
    office = Counter(
        ref for m in mail if "market" in str(m["to"]) for ref in wanted if ref in m["subject"]
    )
    return {
        "office mails": sum(office.values()),
        "office mails twice": sum(n - 1 for n in office.values()),
        "mails resent, same id": sum(m["copies"] - 1 for m in mail),
    }


def faults(sandbox_url: str, seconds: float, stop: threading.Event) -> None:
    """The departments (and the mail server) go through the phases in turn, each department a
    phase ahead of the previous one, until the end."""
    departments = (*CAFE_DEPARTMENTS, "mail")
    step = 0
    while not stop.is_set():
        for n, department in enumerate(departments):
            _, switches = PHASES[(step + n) % len(PHASES)]
            httpx.put(f"{sandbox_url}/_sandbox/faults/{department}", json=switches)
        step += 1
        stop.wait(seconds)


def kills(fleet: Fleet, every: float, stop: threading.Event) -> None:
    """At random moments (every `every` s on average), SIGKILL a worker, a portal or a Rasa
    server, each in turn, chosen at random among its two."""
    turn = 0
    while not stop.wait(random.uniform(every / 2, every * 1.5)):
        kind = KINDS[turn % len(KINDS)]
        fleet.kill(f"{kind}{random.randrange(2)}")
        turn += 1


class Retrying(httpx.HTTPTransport):
    """What a browser's user does when a replica dies under them: the same request again."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(40):
            try:
                response = super().handle_request(request)
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            if response.status_code not in (502, 503, 504) or attempt == 39:
                return response
            response.close()
            time.sleep(0.5)
        raise httpx.ConnectError("no replica answered")


def retrying(client: httpx.Client) -> httpx.Client:
    """The signed-in client, its cookies kept, over a transport that tries again."""
    again = httpx.Client(
        base_url=client.base_url, cookies=client.cookies, transport=Retrying(), timeout=60
    )
    client.close()
    return again


def applications(clients: list[httpx.Client], count: int) -> list[str]:
    """Each citizen fills and sends applications in a thread of their own."""
    references: list[str] = []
    lock = threading.Lock()

    def citizen(client: httpx.Client, how_many: int) -> None:
        for _ in range(how_many):
            sent = submit(client, fill_business(client))
            assert sent.status_code == 303, (sent.status_code, sent.text[:500])
            with lock:
                references.append(sent.headers["location"].split("/")[2])

    share = [count // len(clients) + (n < count % len(clients)) for n in range(len(clients))]
    pairs = zip(clients, share, strict=True)
    threads = [threading.Thread(target=citizen, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return references


async def talk(base: str, count: int) -> dict[str, list[str]]:
    """`count` texts from count/5 citizens (every other one on WhatsApp), five each, sent one
    after another without waiting for the replies (a citizen who types fast), started spread
    over time; each message is posted until the balancer gets an answer from a portal, with
    the same MessageSid (as Twilio retries). Returns each sender's messages."""
    senders = [
        f"{'whatsapp:' if n % 2 else ''}+447{random.randrange(10**9):09d}"
        for n in range(max(1, count // 5))
    ]
    plan = {s: [MESSAGES[(n + k) % len(MESSAGES)] for k in range(5)] for n, s in enumerate(senders)}
    left = count
    for texts in plan.values():
        del texts[min(left, 5) :]
        left -= len(texts)
    validator = RequestValidator(SANDBOX_TOKEN)
    url = f"{base}/webhooks/twilio"
    gate = asyncio.Semaphore(10)

    async def one(client: httpx.AsyncClient, sender: str, text: str) -> None:
        to = f"whatsapp:{OUR_NUMBER}" if sender.startswith("whatsapp:") else OUR_NUMBER
        form = {"MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": SANDBOX_SID, "From": sender}
        form |= {"To": to, "Body": text, "NumMedia": "0"}
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, form),
        }
        for _ in range(60):
            try:
                answer = await client.post(url, content=urlencode(form), headers=headers)
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError(f"no portal took {sender}'s message")

    async def citizen(client: httpx.AsyncClient, sender: str, texts: list[str]) -> None:
        async with gate:
            for text in texts:
                await one(client, sender, text)
                await asyncio.sleep(random.uniform(0.05, 0.4))
            await asyncio.sleep(random.uniform(1, 3))

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(citizen(client, s, t) for s, t in plan.items() if t))
    return {s.removeprefix("whatsapp:"): t for s, t in plan.items() if t}


def every_kind(fleet: Fleet, deadline: float) -> None:
    """Wait until a worker, a portal and a Rasa server have each been killed at least once."""
    started = time.monotonic()
    while set(KINDS) - set(fleet.kills) and time.monotonic() - started < deadline:
        time.sleep(0.5)


def drain(database: str, deadline: float) -> float | None:
    """Seconds until nothing is left in the outbox; None past the deadline."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if asyncio.run(outstanding(database)) == 0:
            return time.monotonic() - started
        time.sleep(1)
    return None


def twilio_messages(sandbox_url: str) -> list[dict[str, Any]]:
    """Every message Twilio was asked to send, oldest first."""
    found: list[dict[str, Any]] = []
    page = 0
    auth = (SANDBOX_SID, SANDBOX_TOKEN)
    while True:
        answer = httpx.get(
            f"{sandbox_url}{TWILIO_LIST}", params={"PageSize": 1000, "Page": page}, auth=auth
        ).json()
        found += answer["messages"]
        if not answer.get("next_page_uri"):
            return list(reversed(found))
        page += 1


async def conversations(
    database: str, texts: dict[str, list[str]], twilio: list[dict[str, Any]]
) -> dict[str, int]:
    """Each conversation as we wrote it against what Twilio was asked to send."""
    from sqlalchemy import select

    from portal.conversations.models import ChatMessage, Conversation
    from portal.database import make_engine

    engine = make_engine(database)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    Conversation.address,
                    ChatMessage.direction,
                    ChatMessage.body,
                    ChatMessage.external_id,
                    ChatMessage.answered_at,
                )
                .join(ChatMessage, ChatMessage.conversation_id == Conversation.id)
                .where(Conversation.channel != "web")
                .order_by(ChatMessage.id)
            )
        ).all()
    await engine.dispose()
    at_twilio: dict[str, list[str]] = {}
    for message in twilio:
        address = message["to"].removeprefix("whatsapp:")
        if address in texts:
            at_twilio.setdefault(address, []).append(message["body"])
    counts = Counter[str]()
    for address, sent in texts.items():
        mine = [row for row in rows if row.address == address]
        ins = [row for row in mine if row.direction == "in"]
        outs = [row for row in mine if row.direction == "out"]
        counts["texts taken in"] += len(ins)
        counts["texts lost before taken in"] += len(sent) - len(ins)
        counts["messages never answered"] += sum(row.answered_at is None for row in ins)
        counts["replies written"] += len(outs)
        counts["replies never sent"] += sum(row.external_id is None for row in outs)
        counts["replies saying sorry"] += sum(row.body.startswith(SORRY) for row in outs)
        received = at_twilio.get(address, [])
        counts["replies sent twice"] += max(0, len(received) - len(outs))
        answered = [row.answered_at for row in ins if row.answered_at is not None]
        in_turn = answered == sorted(answered) and [r.body for r in outs] == received
        counts["conversations out of order"] += not in_turn
    counts["messages never answered"] += counts.pop("texts lost before taken in")
    return dict(counts)


if __name__ == "__main__":
    raise SystemExit(main())
