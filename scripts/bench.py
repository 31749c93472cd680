"""Throughput of portal pages against a bare route on the same server, in one run.

Starts the sandbox and the portal as production does (granian, FRONTDOOR_WORKERS workers) on free
ports with a throwaway database (PostgreSQL with --postgres, else SQLite) and, with --redis-url,
sessions in Redis as production keeps them; signs a citizen in through the sandbox's identity
provider, gives them a draft and an application with a 20-event timeline, signs an agent in with
100 conversations waiting for a person, loads each route with wrk from the same machine, and
prints requests per second, p50/p99 latency, each route's ratio to /healthz and, for the
signed-in pages, to a static page of about the same size. Then it publishes 300 editors' changes
to the Spanish texts and prints how soon every worker served them and what the overlay added to
a page. Ratios, not absolute numbers, are what carry over between machines.

With --volume, every route runs twice in one run: on the empty database, then on a copy of a
city's database made by scripts/volume.py (a million citizens, twenty million timeline events),
and the two tables are printed side by side with each route's full/empty ratio. Both runs also
time an agent's citizen search (by phone, email, part of a name and reference) and a citizen's
summary with 8 agents at once, and print p95: as wrk loads them (8 requests always in flight),
and as 8 agents at work send them (each one request a second, open loop).

Usage: make bench   (PostgreSQL and Redis on this machine, as production runs)
       make volume && make bench BENCH_ARGS="... --volume frontdoor_volume"
       .venv/bin/python scripts/bench.py --seconds 10 --connections 32   (SQLite, no Redis)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sizes: dict[str, int] = {}
ROUTES = [
    ("bare route /healthz", "/healthz", {}),
    ("home page, English", "/", {"Accept-Language": "en"}),
    ("home page, Arabic", "/", {"Accept-Language": "ar"}),
    ("cookies page, Spanish", "/cookies", {"Accept-Language": "es"}),
    ("404 page", "/no-such-page", {}),
    # A static template about as large as a journey page: the yardstick for the next two.
    ("static page ~journey", "/services/open-business", {}),
]
SIGNED_IN = [
    ("journey step + draft", "{draft}/contact"),
    ("application, 20 events", "/applications/{reference}"),
    ("your applications, 50", "/applications"),
]
AGENT = [  # an agent with 100 conversations waiting; the queue is what htmx polls every 5 s
    ("agent inbox, 100 waiting", "/staff/inbox"),
    ("queue poll, changed", "/staff/inbox/queue"),
    ("queue poll, nothing new", "{poll}"),
]
EDITOR = [("editors' overview", "/staff/translations")]
# What an agent types to find the citizen Lee Smith (lee in the sandbox's identity provider).
SEARCHES = [
    ("search by phone", "+44 7400 123456"),
    ("search by email", "LEE@example.org"),
    ("search by part of name", "smith LEE"),
    ("search by reference", "{reference_typed}"),
]
AGENTS = 8  # at once, for the search and the summary
PACE = 1.0  # seconds between one agent's requests, at work (faster than people click)
RECONCILED = 10_000  # payments in the day the reconciliation page compares
PURPOSE = "Bench: a call about an application"
# wrk's own percentiles stop at 90 and 99; this prints p95 too.
P95_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("p95 %d\\n", latency:percentile(95)))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Result:
    rate: float
    p50: str
    p99: str
    p95_ms: float
    errors: int


def wrk(
    url: str, headers: dict[str, str], seconds: int, connections: int, body: str | None = None
) -> Result:
    """Load one route with wrk; a body makes it a form POST."""
    script = P95_SCRIPT
    if body is not None:
        script += f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            lua.name,
            url,
        ]
        for name, value in {"Accept-Encoding": "gzip", **headers}.items():
            command += ["-H", f"{name}: {value}"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
    p95 = int(re.search(r"^p95 (\d+)", output, re.M).group(1)) / 1000  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Result(rate, p50, p99, p95, int(failed.group(1)) if failed else 0)


def wait(url: str) -> None:
    for _ in range(200):
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def sign_in(base: str, user: str = "lee", staff: bool = False) -> httpx.Client:
    """Someone signed in through the sandbox provider: the citizen lee, or a staff member."""
    client = httpx.Client(base_url=base)
    prefix = "/staff/sign-in" if staff else "/sign-in"
    start = client.get(f"{prefix}/start" if staff else f"{prefix}/national")
    provider = start.headers["location"]
    query = dict(parse_qsl(urlsplit(provider).query))
    chosen = httpx.post(provider.split("?")[0], data={**query, "user": user})
    back = dict(parse_qsl(urlsplit(chosen.headers["location"]).query))
    assert client.get(f"{prefix}/callback", params=back).status_code == 303
    return client


def cookie_of(client: httpx.Client) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in client.cookies.items())}


async def _waiting(database_url: str, count: int = 100) -> None:
    """`count` conversations handed to a person, each with a few messages: a busy inbox."""
    import secrets

    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.conversations.models import ChatMessage, Conversation, Handoff
    from portal.database import make_engine

    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        for n in range(count):
            asked = datetime.now(UTC) - timedelta(minutes=count - n)
            conversation = Conversation(
                key=secrets.token_hex(16),
                channel=("sms", "whatsapp", "web")[n % 3],
                address=f"+3461{n:07d}",
                language=("en", "es", "ar")[n % 3],
                status="waiting",
                handoff_reason="asked",
                handoff_at=asked,
            )
            db.add(conversation)
            await db.flush()
            db.add(Handoff(conversation_id=conversation.id, reason="asked", requested_at=asked))
            for text in ("hello", "I need a person", "my street light is broken, since Monday"):
                db.add(
                    ChatMessage(
                        conversation_id=conversation.id,
                        direction="in",
                        author="citizen",
                        body=text,
                    )
                )
        await db.commit()
    await engine.dispose()


def seed(citizen_client: httpx.Client, database_url: str) -> dict[str, str]:
    """A draft half filled in, and Lee's 50 applications, the newest with 20 timeline events."""
    started = citizen_client.get("/services/open-business/apply")
    draft = started.headers["location"].rsplit("/", 1)[0]
    reference = asyncio.run(_applications(database_url))
    return {"draft": draft, "reference": reference, "reference_typed": reference.lower()}


async def _applications(database_url: str, count: int = 50) -> str:
    """Lee's applications: `count` of them, the newest with 20 events (four departments, five
    steps each), the others with five; the newest's reference."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.applications.models import Application, DepartmentRequest, TimelineEvent
    from portal.applications.references import new_reference
    from portal.database import make_engine
    from portal.forms.models import Draft
    from portal.identity.models import Citizen

    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        citizen = await db.scalar(select(Citizen).where(Citizen.subject == "citizen-lee-0003"))
        assert citizen is not None
        for n in range(count):
            newest = n == count - 1
            submitted = datetime.now(UTC) - timedelta(days=count - n)
            draft = Draft(citizen_id=citizen.id, service_id="open-business", answers={})
            draft.submitted_at = submitted
            db.add(draft)
            await db.flush()
            application = Application(
                reference=new_reference(),
                citizen_id=citizen.id,
                draft_id=draft.id,
                service_id="open-business",
                answers={"business_name": "Bench Café"},
                language="en",
                submitted_at=submitted,
            )
            db.add(application)
            await db.flush()
            departments = ("trade-licence", "tax", "environment", "employer")[: 4 if newest else 1]
            statuses = ("received", "in_review", "fee_due", "paid", "approved")
            for department in departments:
                db.add(DepartmentRequest(application_id=application.id, department=department))
                for index, status in enumerate(statuses):
                    at = submitted + timedelta(hours=index)
                    db.add(
                        TimelineEvent(
                            application_id=application.id,
                            department=department,
                            status=status,
                            note="Checked by the office." if status == "in_review" else "",
                            data={"fee": {"amount_minor": 15000, "currency": "EUR"}}
                            if status == "fee_due"
                            else {},
                            external_id=f"bench-{application.reference}-{department}-{status}",
                            occurred_at=at,
                        )
                    )
        reference = application.reference
        await db.commit()
    await engine.dispose()
    return reference


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--postgres",
        help="a PostgreSQL server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432) on which to "
        "create a throwaway database (default: a throwaway SQLite file)",
    )
    parser.add_argument("--redis-url", help="keep sessions in this Redis, as production does")
    parser.add_argument(
        "--volume",
        metavar="DATABASE",
        help="also run every route on a copy of this database on the --postgres server "
        "(made by scripts/volume.py) and print both tables side by side",
    )
    args = parser.parse_args()
    if args.volume and not args.postgres:
        parser.error("--volume needs --postgres")
    with throwaway_database(args.postgres) as database_url:
        empty = run(args, database_url)
    if not args.volume:
        return 0
    started = time.monotonic()
    with throwaway_database(args.postgres, "frontdoor_bench_full", args.volume) as database_url:
        print(f"copied {args.volume} in {time.monotonic() - started:.0f} s")
        full = run(args, database_url, overlaid=False)
    side_by_side(empty, full)
    return 0


@contextmanager
def throwaway_database(
    server: str | None, prefix: str = "frontdoor_bench", template: str | None = None
) -> Iterator[str | None]:
    """A new PostgreSQL database on `server` (empty, or a copy of `template`), dropped
    afterwards; None for SQLite."""
    if server is None:
        yield None
        return
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{os.getpid()}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        copied = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f"CREATE DATABASE {name}{copied}"))
        if template:  # the copy's gigabytes written out now, not while routes are measured
            connection.execute(text("CHECKPOINT"))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


Measured = dict[str, tuple[int, Result]]  # label: (bytes, result)


@dataclass(frozen=True)
class Served:
    base: str  # the portal
    sandbox_url: str
    database_url: str
    workers: int


@contextmanager
def served(database: str | None, redis_url: str | None = None) -> Iterator[Served]:
    """The sandbox and the portal as production serves it (granian, FRONTDOOR_WORKERS workers)
    on free ports, on `database` migrated to the newest version (None: a throwaway SQLite
    file), sessions in `redis_url` when given; both stopped afterwards."""
    port, sandbox_port, smtp_port = free_port(), free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    with tempfile.TemporaryDirectory() as var:
        database_url = database or f"sqlite+aiosqlite:///{var}/bench.db"
        env = {
            **os.environ,
            "FRONTDOOR_PORT": str(port),
            "FRONTDOOR_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "FRONTDOOR_VAR_DIR": var,
            "FRONTDOOR_DATABASE_URL": database_url,
            "FRONTDOOR_LOG_LEVEL": "WARNING",
            # As in production: templates compiled once, not checked for changes per request
            # (the "production" value itself would refuse the sandbox's secrets).
            "FRONTDOOR_ENV": "test",
            "FRONTDOOR_CITIZEN_OIDC_ISSUER": f"{sandbox_url}/oidc/citizen",
            "FRONTDOOR_STAFF_OIDC_ISSUER": f"{sandbox_url}/oidc/staff",
            "FRONTDOOR_TWILIO_API_URL": f"{sandbox_url}/twilio",
            "FRONTDOOR_PAYMENTS_URL": f"{sandbox_url}/payments",
            "FRONTDOOR_SMTP_PORT": str(smtp_port),
            **({"FRONTDOOR_REDIS_URL": redis_url} if redis_url else {}),
        }
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True
        )
        sandbox = subprocess.Popen(
            [
                *(sys.executable, "-m", "backend_clients.sandbox"),
                *("--port", str(sandbox_port), "--smtp-port", str(smtp_port)),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        server = subprocess.Popen([sys.executable, "-m", "portal", "serve"], cwd=ROOT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait(f"{sandbox_url}/healthz")
            wait(f"{base}/healthz")
            yield Served(base, sandbox_url, database_url, int(env.get("FRONTDOOR_WORKERS", "2")))
        finally:
            for process in (server, sandbox):
                process.terminate()
                process.wait(timeout=10)


def run(args: argparse.Namespace, database: str | None, overlaid: bool = True) -> Measured:
    with served(database, args.redis_url) as portal:
        measured = measure(args, portal.base, portal.sandbox_url, portal.database_url)
        if overlaid:
            overlay(args, portal.base, portal.database_url, measured, portal.workers)
    return measured


def measure(args: argparse.Namespace, base: str, sandbox_url: str, database_url: str) -> Measured:
    """Sign everyone in, seed what the pages show, warm every worker, then load each route."""
    citizen = sign_in(base)
    places = seed(citizen, database_url)
    agent = sign_in(base, "agent", staff=True)
    editor = sign_in(base, "editor", staff=True)
    asyncio.run(_waiting(database_url))
    polled = re.search(r'hx-get="(/staff/inbox/queue[^"]*)"', agent.get("/staff/inbox").text)
    assert polled, "the inbox has no poller"
    places["poll"] = polled.group(1)
    searches = _searches(agent, places)
    lee = _found(agent, searches[0][3])
    routes = [
        *ROUTES,
        *((label, path.format(**places), cookie_of(citizen)) for label, path in SIGNED_IN),
        *((label, path.format(**places), cookie_of(agent)) for label, path in AGENT),
        *((label, path, cookie_of(editor)) for label, path in EDITOR),
    ]
    for label, path, headers in routes:  # warm every worker's caches; show sizes
        for _ in range(20):
            answer = httpx.get(base + path, headers=headers)
            assert answer.status_code in (200, 204, 404), (label, answer.status_code)
        sizes[label] = len(answer.content)
    print(
        f"database: {database_url.split('+')[0]} ({_rows(database_url)}); sessions: "
        f"{'Redis' if args.redis_url else 'the database'}"
    )
    print(
        f"portal: granian, {os.environ.get('FRONTDOOR_WORKERS', '2')} workers; wrk: 2 threads, "
        f"{args.connections} "
        f"connections, {args.seconds}s per route, gzip accepted; same machine "
        f"({os.cpu_count()} cores)"
    )
    print(
        f"{'route':<26}{'HTML':>8}{'req/s':>9}{'p50':>10}{'p99':>10}{'vs bare':>9}{'vs static':>11}"
    )
    measured: Measured = {}
    for label, path, headers in routes:
        result = wrk(base + path, headers, args.seconds, args.connections)
        measured[label] = (sizes[label], result)
        bare = measured[ROUTES[0][0]][1].rate
        static = measured[ROUTES[-1][0]][1].rate if ROUTES[-1][0] in measured else None
        versus = f"{result.rate / static:>11.2f}" if static else f"{'':>11}"
        print(
            f"{label:<26}{sizes[label] / 1024:>7.1f}K{result.rate:>9.0f}{result.p50:>10}"
            f"{result.p99:>10}{result.rate / bare:>9.2f}{versus}"
        )
    print(f"{AGENTS} agents at once:        {'req/s':>9}{'p50':>10}{'p95':>10}{'p99':>10}")
    summary = ("citizen summary", f"/staff/citizens/{lee}", cookie_of(agent), None)
    for label, path, headers, body in [*searches, summary]:
        result = wrk(base + path, headers, args.seconds, AGENTS, body)
        assert result.errors == 0, (label, result.errors)
        measured[label] = (0, result)
        print(
            f"{label:<26}{'':>8}{result.rate:>9.0f}{result.p50:>10}"
            f"{result.p95_ms:>8.1f}ms{result.p99:>10}"
        )
    # Open loop, as agents at work send them: long enough for a p95 of 120 requests a route.
    paced_seconds = max(args.seconds, 15)
    print(f"{AGENTS} agents at work, each one request every {PACE:g} s, {paced_seconds} s:")
    print(f"{'':<26}{'':>8}{'sent/s':>9}{'p50':>10}{'p95':>10}{'p99':>10}")
    for label, path, headers, body in [*searches, summary]:
        latencies = asyncio.run(paced(base + path, headers, body, paced_seconds))
        p50, p95, p99 = (percentile(latencies, share) for share in (0.50, 0.95, 0.99))
        print(
            f"{label:<26}{'':>8}{len(latencies) / paced_seconds:>9.1f}"
            f"{p50:>8.1f}ms{p95:>8.1f}ms{p99:>8.1f}ms"
        )
    day = _reconciled_day(sandbox_url, database_url)
    admin = cookie_of(sign_in(base, "admin", staff=True))
    label = f"reconciliation, {RECONCILED:,}"
    result = wrk(f"{base}/staff/payments?day={day}", admin, args.seconds, 1)
    assert result.errors == 0, (label, result.errors)
    measured[label] = (0, result)
    print(f"one administrator:\n{label:<26}{'':>8}{result.rate:>9.1f}{result.p50:>10}")
    return measured


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def paced(url: str, headers: dict[str, str], body: str | None, seconds: int) -> list[float]:
    """AGENTS agents, each sending one request every PACE seconds (their starts spread over the
    first PACE), on time whatever the answers (open loop, as people at work are): each
    request's time to its whole answer, in ms. wrk's rows above keep AGENTS requests in flight
    all the time instead, a load far past a call centre's."""
    if body is not None:
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    latencies: list[float] = []
    async with httpx.AsyncClient(headers={"Accept-Encoding": "gzip", **headers}) as client:

        async def one(due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if body is None:
                answer = await client.get(url, timeout=30)
            else:
                answer = await client.post(url, content=body, timeout=30)
            assert answer.status_code == 200, (url, answer.status_code)
            # From when it was due, not when it went: a late start is the server's delay too.
            latencies.append((time.monotonic() - due) * 1000)

        start = time.monotonic() + 0.1
        count = round(seconds / PACE)
        await asyncio.gather(
            *(
                one(start + (agent / AGENTS + n) * PACE)
                for agent in range(AGENTS)
                for n in range(count)
            )
        )
    return latencies


def _reconciled_day(sandbox_url: str, database_url: str) -> str:
    """RECONCILED payments on both sides on a day after the volume's (whose payments the
    sandbox gateway does not know), all alike: what a busy day's page costs to compare."""
    from tests.payments_support import seed_day, spread

    day = datetime.now(UTC).date() + timedelta(days=2)
    seed_day(sandbox_url, database_url, day, spread(RECONCILED))
    return day.isoformat()


def _searches(
    agent: httpx.Client, places: dict[str, str]
) -> list[tuple[str, str, dict[str, str], str]]:
    """The agent's searches as wrk sends them: a form POST with the agent's CSRF token."""
    from urllib.parse import urlencode

    page = agent.get("/staff/citizens").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert token, "the search has no CSRF token"
    return [
        (
            label,
            "/staff/citizens",
            cookie_of(agent),
            urlencode(
                {
                    "_csrf_token": token.group(1),
                    "purpose": PURPOSE,
                    "query": query.format(**places),
                    "page": "1",
                }
            ),
        )
        for label, query in SEARCHES
    ]


def _found(agent: httpx.Client, body: str) -> str:
    """Lee's public id, found by the agent's first search (which keeps the purpose for them)."""
    answer = agent.post(
        "/staff/citizens",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    found = re.findall(r'href="/staff/citizens/(c_[0-9a-f]+)">Lee Smith<', answer.text)
    assert len(found) == 1, f"the search found {len(found)} Lee Smith"
    return str(found[0])


def _rows(database_url: str) -> str:
    """How many citizens and timeline events the database holds."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("+aiosqlite", ""))
    with engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            for table in ("citizens", "timeline_events")
        ]
    engine.dispose()
    return f"{counts[0]:,} citizens, {counts[1]:,} timeline events"


def side_by_side(empty: Measured, full: Measured) -> None:
    """Each route on the empty and the full database; full/empty under 0.8 is a regression."""
    static = ROUTES[-1][0]
    print("\nempty database | a city's database (scripts/volume.py); same run, same machine")
    print(
        f"{'route':<26}{'req/s':>8}{'p50':>9}{'p99':>9}{'p95':>9}{'static':>7} |"
        f"{'req/s':>8}{'p50':>9}{'p99':>9}{'p95':>9}{'static':>7} |{'full/empty':>11}"
    )
    for label in empty:
        cells = []
        for measured in (empty, full):
            result = measured[label][1]
            ratio = result.rate / measured[static][1].rate
            cells.append(
                f"{result.rate:>8.0f}{result.p50:>9}{result.p99:>9}{result.p95_ms:>7.1f}ms"
                f"{ratio:>7.2f} |"
            )
        change = full[label][1].rate / empty[label][1].rate
        flag = "  SLOWER" if change < 0.8 else ""
        print(f"{label:<26}{''.join(cells)}{change:>11.2f}{flag}")


OVERLAID = ("cookies page, Spanish", "/cookies", {"Accept-Language": "es"})
CHANGES = 300  # editors' published changes laid over the Spanish catalogue


def overlay(
    args: argparse.Namespace,
    base: str,
    database_url: str,
    measured: Measured,
    workers: int,
) -> None:
    """The editors' overlay: publish CHANGES Spanish texts (the page's heading among them), time
    until every worker serves them, and load the same page again. With the workers busy on all
    cores, each request costs min(workers, cores) / rate seconds of CPU: the difference is what
    the overlay adds to a page."""
    label, path, headers = OVERLAID
    published = asyncio.run(_publish(database_url))
    in_a_row, first = 0, None
    while in_a_row < 20:  # new connections, so that any worker may answer
        page = httpx.get(base + path, headers={**headers, "Connection": "close"})
        if "Cookies ·" in page.text:
            first = first or time.monotonic()
            in_a_row += 1
        else:
            in_a_row, first = 0, None
        if time.monotonic() - published > 30:
            raise RuntimeError("the published change was not served within 30 s")
    took = (first or published) - published
    after = wrk(base + path, headers, args.seconds, args.connections)
    before = measured[label][1]
    busy = min(workers, os.cpu_count() or 1)
    added = busy * (1 / after.rate - 1 / before.rate) * 1000
    print(
        f"{'  with ' + str(CHANGES) + ' edits':<26}{'':>8}{after.rate:>9.0f}{after.p50:>10}"
        f"{after.p99:>10}{after.rate / measured[ROUTES[0][0]][1].rate:>9.2f}"
    )
    print(
        f"editors' overlay: {CHANGES} published Spanish texts served by every worker "
        f"{took:.2f} s after publishing; {label}: {before.rate:.0f} -> {after.rate:.0f} req/s, "
        f"p50 {before.p50} -> {after.p50}, CPU per page {added:+.2f} ms"
    )


async def _publish(database_url: str) -> float:
    """Publish CHANGES Spanish texts as two editors would; when it was committed."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.database import make_engine
    from portal.translations.messages import load_messages
    from portal.translations.models import Publication, TranslationEdit

    messages = load_messages(ROOT / "locales")
    chosen = [m for m in messages.items if m.msgid == "Cookies"]
    chosen += [m for m in messages.items if not m.plural and m.msgid != "Cookies"]
    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        for message in chosen[:CHANGES]:
            forms, _, _ = messages.base["es"][message.key]
            edit = TranslationEdit(
                language="es",
                key=message.key,
                msgid=message.msgid,
                context=message.context,
                forms=[f"{forms[0]} ·"],
                status="published",
                author="staff:bench-editor",
                reviewer="staff:bench-reviewer",
            )
            db.add(edit)
            await db.flush()
            db.add(
                Publication(
                    edit_id=edit.id, language="es", key=message.key, published_by=edit.reviewer
                )
            )
        await db.commit()
    await engine.dispose()
    return time.monotonic()


if __name__ == "__main__":
    sys.exit(main())
