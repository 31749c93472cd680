"""How long a citizen waits for the assistant: from a Twilio webhook sent to the portal until
the reply reaches Twilio's messages API, one message at a time (p50 and p95 over 200 messages)
and, with --conversations or --rate, under load (replies/s, p50, p95, p99), in one run.

Starts the sandbox, the portal (granian, as production), its outbox worker and the bot (Rasa,
the current model) on free ports with throwaway PostgreSQL databases (the portal's and the bot's
tracker store), then sends signed SMS and WhatsApp webhooks in English, Spanish and Arabic one
after another and polls the sandbox's Twilio message list (every millisecond) until each reply
is there. The figure is therefore an upper bound of "webhook received -> reply handed to
Twilio": it also holds the webhook's own HTTP exchange and the polling. Also printed: how long
Twilio's webhook request waits for the portal's answer (the bot is asked after that answer).

Under load, the portal sends its replies to a stand-in for Twilio's messages API in this process,
which notes when each one arrives (no polling, and no local CPU spent on it, as with the real
Twilio); the sandbox still serves bills. Each message gets one reply, matched to the oldest
message of its sender still unanswered. Each citizen's first message comes before the timing
starts. Printed beside the figures: the CPU time the bot, the portal (all its workers), the
outbox worker and PostgreSQL (this run's databases) spent per reply.

- `--conversations 20`: closed loop. 20 conversations at once, each sending its next message as
  soon as its reply arrives, for --seconds: the most the bot answers (replies/s), and how long
  each waits. After --turns messages (10) a new citizen takes the place: Rasa reads a whole
  conversation on each message, so endless conversations would measure something else.
- `--rate 20`: open loop. 20 messages a second, sent on time whatever the replies, spread over
  --senders conversations: the wait is counted from when each message was due (a slow reply
  does not delay the next message), as citizens would see it.

Both can be given: the closed loop runs first. The load averages printed beside each figure say
how busy the machine was (other programs share it).

Usage: .venv/bin/python scripts/bot_latency.py [--messages 200]
       .venv/bin/python scripts/bot_latency.py --conversations 20 --rate 20 [--seconds 30]
       (needs `make bot` and PostgreSQL on 127.0.0.1:5432)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
from bench import free_port, throwaway_database, wait
from text_the_bot import OUR_NUMBER, SANDBOX_SID, SANDBOX_TOKEN, post_message, received
from twilio.request_validator import RequestValidator

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


# --- under load ------------------------------------------------------------------------------


@dataclass
class TwilioStandIn:
    """Twilio's messages API as the portal calls it, served in this process: each reply is noted
    when it arrives and matched to the oldest unanswered message of its addressee."""

    waiting: defaultdict[str, deque[asyncio.Future[float]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    unexpected: int = 0  # replies that no message was waiting for
    connections: set[asyncio.StreamWriter] = field(default_factory=set)

    def expect(self, address: str) -> asyncio.Future[float]:
        """The time the next reply to `address` arrives (ask before sending the message)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[address].append(future)
        return future

    def arrived(self, address: str) -> None:
        now = time.perf_counter()
        queue = self.waiting.get(address) or deque()
        while queue:
            future = queue.popleft()
            if not future.done():  # a message given up on is skipped
                future.set_result(now)
                return
        self.unexpected += 1

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """HTTP/1.1 with keep-alive, as much of it as httpx uses: POST creates a message, GET
        (the list, asked before resending an attempt cut short) finds none."""
        self.connections.add(writer)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                headers = dict(line.lower().split(":", 1) for line in head[1:] if ":" in line)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                answer: dict[str, object] = {"messages": []}
                status = "200 OK"
                if head[0].startswith("POST"):
                    form = dict(parse_qsl(body.decode()))
                    self.arrived(form.get("To", ""))
                    status = "201 Created"
                    answer = {
                        "sid": f"SM{secrets.token_hex(16)}",
                        "account_sid": SANDBOX_SID,
                        "to": form.get("To", ""),
                        "from": form.get("From", ""),
                        "body": form.get("Body", ""),
                        "status": "queued",
                    }
                payload = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.connections.discard(writer)
            writer.close()

    async def close(self) -> None:
        """Hang up on the portal, so that no connection is left to cancel."""
        for writer in list(self.connections):
            writer.close()
        await asyncio.sleep(0.1)


async def post_webhook(client: httpx.AsyncClient, base: str, sender: str, text: str) -> float:
    """Send one signed Twilio webhook (as text_the_bot.post_message); seconds until answered."""
    to = f"whatsapp:{OUR_NUMBER}" if sender.startswith("whatsapp:") else OUR_NUMBER
    form = {
        "MessageSid": f"SM{secrets.token_hex(16)}",
        "AccountSid": SANDBOX_SID,
        "From": sender,
        "To": to,
        "Body": text,
        "NumMedia": "0",
    }
    url = f"{base}/webhooks/twilio"
    signature = RequestValidator(SANDBOX_TOKEN).compute_signature(url, form)
    start = time.perf_counter()
    answered = await client.post(
        url,
        content=urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    if answered.status_code != 200:
        raise RuntimeError(f"the portal answered {answered.status_code}: {answered.text}")
    return time.perf_counter() - start


def senders(count: int, prefix: str, generation: int = 0) -> list[str]:
    """`count` citizens, every other one on WhatsApp (another generation: other citizens)."""
    return [f"{'whatsapp:' if n % 2 else ''}+{prefix}{generation:03d}{n:04d}" for n in range(count)]


@dataclass
class Phase:
    """What one load phase measured."""

    title: str
    seconds: float
    waits: list[float] = field(default_factory=list)  # message due -> reply at Twilio
    webhooks: list[float] = field(default_factory=list)  # webhook sent -> portal answered
    in_window: int = 0  # replies that arrived within the phase's seconds
    lost: int = 0  # no reply within LOST_AFTER
    load: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds used, per program

    def report(self) -> str:
        rate = self.in_window / self.seconds
        waits, hooks = self.waits or [0.0], self.webhooks or [0.0]
        lines = [
            self.title,
            f"  {rate:5.1f} replies/s   reply at Twilio: p50 {ms(statistics.median(waits))}  "
            f"p95 {ms(percentile(waits, 0.95))}  p99 {ms(percentile(waits, 0.99))}  "
            f"max {ms(max(waits))}   ({len(self.waits)} replies, {self.lost} lost)",
            f"  webhook answered: p50 {ms(statistics.median(hooks))}  "
            f"p95 {ms(percentile(hooks, 0.95))}  p99 {ms(percentile(hooks, 0.99))}",
        ]
        if self.cpu and self.waits:
            per_reply = "  ".join(
                f"{name} {seconds / len(self.waits) * 1000:.1f} ms"
                for name, seconds in self.cpu.items()
            )
            lines.append(f"  CPU per reply: {per_reply}")
        before, after = (" ".join(f"{x:.2f}" for x in load) for load in self.load)
        lines.append(f"  load average (1, 5, 15 min): {before} before, {after} after")
        return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f} ms"


LOST_AFTER = 30.0  # seconds without a reply: counted lost


async def exchange(
    client: httpx.AsyncClient, base: str, twilio: TwilioStandIn, sender: str, text: str
) -> tuple[float, float] | None:
    """One message and its reply: (seconds until the webhook was answered, until the reply
    arrived), or None when no reply came."""
    start = time.perf_counter()
    reply = twilio.expect(sender)
    webhook = await post_webhook(client, base, sender, text)
    try:
        arrived = await asyncio.wait_for(reply, LOST_AFTER)
    except TimeoutError:
        return None
    return webhook, arrived - start


async def warm_up(
    client: httpx.AsyncClient, base: str, twilio: TwilioStandIn, addresses: list[str]
) -> None:
    """Each citizen's first message (a new conversation costs more), 20 at a time."""
    room = asyncio.Semaphore(20)

    async def first(sender: str) -> None:
        async with room:
            await exchange(client, base, twilio, sender, "hello")

    await asyncio.gather(*(first(sender) for sender in addresses))


async def closed_loop(
    client: httpx.AsyncClient,
    base: str,
    twilio: TwilioStandIn,
    addresses: list[str],
    seconds: float,
    turns: int,
) -> Phase:
    phase = Phase(
        f"closed loop: {len(addresses)} conversations at once, each sending its next message "
        f"when its reply arrives, a new citizen every {turns} messages, {seconds:.0f} s",
        seconds,
    )
    start = time.perf_counter()
    end = start + seconds

    async def talk(index: int, first: str) -> None:
        for turn in itertools.count():
            if time.perf_counter() >= end:
                return
            generation = turn // turns
            sender = senders(index + 1, "3463", generation)[index] if generation else first
            text = MESSAGES[(index + turn) % len(MESSAGES)]
            answered = await exchange(client, base, twilio, sender, text)
            if answered is None:
                phase.lost += 1
                continue
            phase.webhooks.append(answered[0])
            phase.waits.append(answered[1])
            phase.in_window += time.perf_counter() <= end

    await asyncio.gather(*(talk(index, sender) for index, sender in enumerate(addresses)))
    return phase


async def open_loop(
    client: httpx.AsyncClient,
    base: str,
    twilio: TwilioStandIn,
    addresses: list[str],
    rate: float,
    seconds: float,
) -> Phase:
    count = len(addresses)
    phase = Phase(
        f"open loop: {rate:g} messages/s offered for {seconds:.0f} s, whatever the replies, "
        f"over {count} conversations",
        seconds,
    )
    start = time.perf_counter() + 0.1
    end = start + seconds

    async def one(due: float, sender: str, text: str) -> None:
        reply = twilio.expect(sender)
        phase.webhooks.append(await post_webhook(client, base, sender, text))
        try:
            arrived = await asyncio.wait_for(reply, LOST_AFTER)
        except TimeoutError:
            phase.lost += 1
            return
        phase.waits.append(arrived - due)  # from when it was due: a late send counts
        phase.in_window += arrived <= end

    tasks = []
    for number in range(round(rate * seconds)):
        due = start + number / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        index = number % count
        text = MESSAGES[(index + number // count) % len(MESSAGES)]
        tasks.append(asyncio.create_task(one(due, addresses[index], text)))
    await asyncio.gather(*tasks)
    return phase


def cpu_seconds(pids: dict[str, int], databases: list[str]) -> dict[str, float]:
    """CPU seconds used so far by each program (with its child processes, e.g. granian's
    workers), by the PostgreSQL backends serving this run's databases and by this script."""
    tick = os.sysconf("SC_CLK_TCK")

    def used(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick

    def tree(pid: int) -> list[int]:
        found = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                for child in task.read_text().split():
                    found += tree(int(child))
        return found

    totals = {name: sum(used(p) for p in tree(pid)) for name, pid in pids.items()}
    backends = 0.0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            words = cmdline.read_bytes().decode(errors="replace").split()
            if words[:1] == ["postgres:"] and any(name in words for name in databases):
                backends += used(int(cmdline.parent.name))
    totals["PostgreSQL"] = backends
    totals["this script"] = time.process_time()  # the citizens and Twilio: the same cores
    return totals


async def under_load(
    args: argparse.Namespace, base: str, twilio: TwilioStandIn, pids: dict[str, int]
) -> list[Phase]:
    databases = [url.rsplit("/", 1)[1] for url in (args.database, args.tracker)]
    phases = []
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=20, limits=limits) as client:
        runs: list[tuple[list[str], Callable[[list[str]], Awaitable[Phase]]]] = []
        if args.conversations:
            runs.append(
                (
                    senders(args.conversations, "3463"),
                    lambda them: closed_loop(client, base, twilio, them, args.seconds, args.turns),
                )
            )
        if args.rate:
            runs.append(
                (
                    senders(args.senders, "3464"),
                    lambda them: open_loop(client, base, twilio, them, args.rate, args.seconds),
                )
            )
        for addresses, run_phase in runs:
            await warm_up(client, base, twilio, addresses)
            load, cpu = os.getloadavg(), cpu_seconds(pids, databases)
            phase = await run_phase(addresses)
            after = cpu_seconds(pids, databases)
            phase.load = (load, os.getloadavg())
            phase.cpu = {name: after[name] - cpu[name] for name in after}
            print(phase.report(), flush=True)
            phases.append(phase)
    if twilio.unexpected:
        print(f"{twilio.unexpected} replies no message was waiting for")
    return phases


async def loaded_run(
    args: argparse.Namespace, base: str, twilio_port: int, pids: dict[str, int]
) -> None:
    twilio = TwilioStandIn()
    server = await asyncio.start_server(twilio.serve, "127.0.0.1", twilio_port)
    async with server:
        await under_load(args, base, twilio, pids)
        await twilio.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200, help="one at a time (default)")
    parser.add_argument("--conversations", type=int, default=0, help="closed loop: how many")
    parser.add_argument("--rate", type=float, default=0, help="open loop: messages a second")
    parser.add_argument(
        "--turns", type=int, default=10, help="closed loop: messages from each citizen"
    )
    parser.add_argument("--senders", type=int, default=100, help="open loop: conversations")
    parser.add_argument("--seconds", type=float, default=30, help="of each load phase")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with (
        throwaway_database(args.postgres) as portal_db,
        throwaway_database(args.postgres, "frontdoor_bench_bot") as bot_db,
        tempfile.TemporaryDirectory() as var,
    ):
        args.database, args.tracker = str(portal_db), str(bot_db)
        return run(args, str(portal_db), str(bot_db), var)


def run(args: argparse.Namespace, database: str, tracker: str, var: str) -> int:
    port, sandbox_port, smtp_port, bot_port = free_port(), free_port(), free_port(), free_port()
    base, sandbox = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}"
    loaded = bool(args.conversations or args.rate)
    twilio_port = free_port()  # the stand-in for Twilio, under load
    twilio_url = f"http://127.0.0.1:{twilio_port}" if loaded else f"{sandbox}/twilio"
    env = {
        **os.environ,
        "FRONTDOOR_ENV": "test",
        "FRONTDOOR_PORT": str(port),
        "FRONTDOOR_PUBLIC_URL": base,
        "FRONTDOOR_VAR_DIR": var,
        "FRONTDOOR_DATABASE_URL": database,
        "FRONTDOOR_LOG_LEVEL": "WARNING",
        "FRONTDOOR_TWILIO_API_URL": twilio_url,
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
        # The outbox worker sends what the portal could not send at once, as in production.
        subprocess.Popen([sys.executable, "-m", "portal", "worker"], cwd=ROOT, env=env),
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
        if loaded:
            pids = {"bot": processes[3].pid, "portal": processes[1].pid}
            pids["outbox worker"] = processes[2].pid
            print(
                f"bot: Rasa 3.6 (pid {pids['bot']}), current model; portal: granian, "
                f"{os.environ.get('FRONTDOOR_WORKERS', 2)} workers (pid {pids['portal']}); "
                f"PostgreSQL; {os.cpu_count()} cores",
                flush=True,
            )
            asyncio.run(loaded_run(args, base, twilio_port, pids))
            return 0
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
