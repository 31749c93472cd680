"""A city's worth of data in a throwaway PostgreSQL database, so that pages are measured where they
will run: 1,000,000 citizens, 2,000,000 applications over several services and departments,
20,000,000 timeline events, 5,000,000 chat messages in 500,000 conversations and 500,000 payments.

Most citizens have 0 to 3 applications (Poisson, mean 1.95) and a thousand have 50; names mix
Spanish, English and Arabic, with accents. Rows are generated from a seed (the same database every
time) and streamed with COPY, several tables at once, foreign keys unchecked while loading (every
row is made to match its parent); then the sequences move past the ids written and the tables are
vacuumed and analysed, as a live database would be. `scripts/bench.py --volume` copies it per run.

Usage: make volume   (VOLUME_ARGS="--scale 0.01" for a small one)
"""

from __future__ import annotations

import argparse
import bisect
import math
import os
import random
import subprocess
import sys
import time
from array import array
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.applications.references import ALPHABET, check_character  # noqa: E402
from portal.i18n.folding import fold  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DATABASE = "frontdoor_volume"
FULL = {
    "citizens": 1_000_000,
    "applications": 2_000_000,
    "events": 20_000_000,
    "conversations": 500_000,
    "messages": 5_000_000,
    "payments": 500_000,
}
HEAVY_CITIZENS = 1_000  # each with HEAVY_APPLICATIONS: agents meet such citizens every day
HEAVY_APPLICATIONS = 50
DAYS = 3 * 365  # the data spans the last three years
SERVICES = {  # service: the departments one of its applications goes to (as the catalogue has)
    "open-business": ("trade-licence", "tax", "environment", "employer"),
    "market-stall-licence": ("markets", "environmental-health"),
    "building-work-notice": ("building-control", "planning"),
    "street-party-permit": ("highways", "police"),
    "resident-parking-permit": ("parking",),
    "bulky-waste-collection": ("waste",),
    "dog-licence": ("animal-welfare",),
    "register-a-birth": ("register-office",),
    "water-connection": ("water",),
    "report-a-problem": ("public-works",),
}
STATUSES = ("received", "in_review", "information_requested", "information_sent", "fee_due",
            "paid", "approved", "certificate_issued")  # fmt: skip
FIRST = {
    "es": ("José", "María", "Ángel", "Begoña", "Iñaki", "Lucía", "Álvaro", "Inés", "Rocío",
           "Jesús", "Nuria", "Raúl", "Sofía", "Andrés", "Elena", "Óscar", "Carmen", "Joaquín"),
    "en": ("James", "Mary", "Zoë", "Liam", "Chloé", "Noah", "Olivia", "Renée", "Jack", "Amélie",
           "Thomas", "Emily", "Seán", "Grace", "Oliver", "Niamh"),
    "ar": ("محمد", "فاطمة", "أحمد", "عائشة", "علي", "مريم", "يوسف", "خديجة", "عمر", "ليلى",
           "حسن", "نور"),
}  # fmt: skip
LAST = {
    "es": ("García", "López", "Núñez", "Ibáñez", "Martín", "Pérez", "Sánchez", "Gómez", "Díaz",
           "Fernández", "Rodríguez", "Muñoz", "Álvarez", "Jiménez", "Ruiz", "Hernández",
           "Castaño", "Peña", "Cortés", "Domínguez"),
    "en": ("Smith", "O'Brien", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans",
           "Wilson", "Thomas", "Roberts", "Walsh"),
    "ar": ("العلي", "الحسن", "الأحمد", "الخطيب", "النجار", "الحداد", "السيد", "المصري",
           "الشامي", "يوسف"),
}  # fmt: skip
CHAT = (
    ("in", "citizen", "hello"),
    ("out", "bot", "Hello! I can help you report a problem or follow an application."),
    ("in", "citizen", "where is my application"),
    ("out", "bot", "What is your application reference?"),
    ("in", "citizen", "the street light outside number 12 is broken"),
    ("out", "bot", "Thank you. Where is the problem?"),
    ("in", "citizen", "hola, hay un bache en la calle Mayor"),
    ("out", "bot", "Gracias. ¿Dónde está el problema?"),
    ("in", "citizen", "مرحبا، أين طلبي؟"),
    ("out", "bot", "ما هو رقم طلبك؟"),
)


def _fold(text: str) -> str:
    """ASCII letters for an email address (accents dropped; other scripts give nothing)."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def reference(n: int) -> str:
    """A valid, unique application reference for row n (a bijection of n onto seven symbols)."""
    scrambled = (n * 2_654_435_761) % 32**7
    body = "".join(ALPHABET[(scrambled >> (5 * k)) & 31] for k in range(7))
    code = body + check_character(body)
    return f"FD-{code[:4]}-{code[4:]}"


def public_id(prefix: str, n: int) -> str:
    return f"{prefix}_{(n * 0x9E3779B97F4A7C15) % 16**20:020x}"


class Clock:
    """Timestamps as COPY reads them, without datetime per row: a day's text and a time."""

    def __init__(self, rng: random.Random) -> None:
        today = datetime.now(UTC).date()
        self.days = [(today - timedelta(days=DAYS - d)).isoformat() for d in range(DAYS + 1)]
        self.rng = rng

    def at(self, day: int, second: int | None = None) -> str:
        s = self.rng.randrange(86_400) if second is None else second % 86_400
        day_text = self.days[min(max(day, 0), DAYS)]
        return f"{day_text} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00"


@dataclass(frozen=True)
class Plan:
    """How many of each, and which citizen owns each application (decided once, from the seed)."""

    counts: dict[str, int]
    seed: int
    owner: array  # type: ignore[type-arg]  # owner[a - 1]: the citizen of application a

    @staticmethod
    def make(scale: float, seed: int) -> Plan:
        counts = {name: max(1, int(count * scale)) for name, count in FULL.items()}
        rng = random.Random(seed)
        heavy = min(HEAVY_CITIZENS, counts["citizens"] // 100 or 1)
        owners = array("I")
        for citizen in range(1, heavy + 1):
            owners.extend([citizen] * HEAVY_APPLICATIONS)
        rest = counts["applications"] - len(owners)
        others = counts["citizens"] - heavy
        mean = max(rest, 0) / max(others, 1)
        cdf, total, k = [], 0.0, 0
        while total < 0.999_999 and k < 40:  # Poisson(mean): most have 0 to 3
            total += math.exp(-mean) * mean**k / math.factorial(k)
            cdf.append(total)
            k += 1
        for citizen in range(heavy + 1, counts["citizens"] + 1):
            if len(owners) >= counts["applications"]:
                break
            owners.extend([citizen] * bisect.bisect(cdf, rng.random()))
        while len(owners) < counts["applications"]:  # the draw fell short: top up at random
            owners.append(rng.randrange(heavy + 1, counts["citizens"] + 1))
        del owners[counts["applications"] :]
        order = sorted(range(len(owners)), key=lambda i: rng.random())  # submitted in any order
        shuffled = array("I", (owners[i] for i in order))
        return Plan(counts, seed, shuffled)


def _lines(rows: Iterator[str]) -> Iterator[bytes]:
    chunk: list[str] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= 20_000:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()


def citizens(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    for n in range(1, plan.counts["citizens"] + 1):
        language = rng.choices(("es", "en", "ar"), (6, 3, 1))[0]
        first, last = rng.choice(FIRST[language]), rng.choice(LAST[language])
        second = rng.choice(LAST[language]) if language == "es" else ""
        name = " ".join(part for part in (first, last, second) if part)
        ascii_name = _fold(first) + "." + _fold(last)
        email = f"{ascii_name if ascii_name != '.' else 'vecino'}{n}@example.org"
        phone = f"+346{n:08d}" if rng.random() < 0.8 else "\\N"
        created = clock.at(rng.randrange(DAYS))
        yield (
            f"{n}\thttps://volume.invalid/oidc\tv{n}\t{name}\t{fold(name)}\t"
            f"{email if rng.random() < 0.9 else chr(92) + 'N'}\t{phone}\t{language}\t{created}\t"
            f"{created}\t{created}\tf\t{public_id('c', n)}\n"
        )


CITIZENS = (
    "citizens",
    "id, issuer, subject, name, name_folded, email, phone, language, created_at, last_sign_in_at, "
    "sessions_valid_after, reuse_consent, public_id",
    citizens,
)


def _service(application: int) -> str:
    return list(SERVICES)[application * 7 % len(SERVICES)]


def _day(plan: Plan, application: int) -> int:
    """Applications are numbered in the order they were submitted, over the three years."""
    return application * DAYS // (plan.counts["applications"] + 1)


def drafts(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    for a in range(1, plan.counts["applications"] + 1):  # draft a became application a
        at = clock.at(_day(plan, a))
        yield (
            f"{a}\t{public_id('d', a)}\t{plan.owner[a - 1]}\t{_service(a)}\t{{}}\t{{}}\tweb\t"
            f"{at}\t{at}\t{at}\n"
        )


DRAFTS = (
    "drafts",
    "id, public_id, citizen_id, service_id, answers, prefilled, channel, created_at, updated_at, "
    "submitted_at",
    drafts,
)


def applications(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    for a in range(1, plan.counts["applications"] + 1):
        at = clock.at(_day(plan, a))
        answers = (
            '{"address": "Calle Mayor ' + str(a % 200 + 1) + ', 28013 Madrid", '
            '"details": "Volume row ' + str(a) + '", "contact": "email"}'
        )
        language = ("es", "en", "ar")[a % 3]
        channel = ("web", "web", "web", "assisted", "sms")[a % 5]
        yield (
            f"{a}\t{reference(a)}\t{plan.owner[a - 1]}\t{a}\t{_service(a)}\t{answers}\t"
            f"{language}\t{channel}\t{at}\t{at}\n"
        )


APPLICATIONS = (
    "applications",
    "id, reference, citizen_id, draft_id, service_id, answers, language, channel, submitted_at, "
    "updated_at",
    applications,
)


def _requests(plan: Plan) -> Iterator[tuple[int, int, str]]:
    """(request id, application, department) for every department request, in id order."""
    n = 0
    for a in range(1, plan.counts["applications"] + 1):
        for department in SERVICES[_service(a)]:
            n += 1
            yield n, a, department


def _events_of(plan: Plan, application: int) -> int:
    """How many events application `application` has: 1 to 19, plan["events"] in all."""
    mean = plan.counts["events"] / plan.counts["applications"]
    spread = min(mean - 1, 9)
    return max(1, round(mean + spread * math.sin(application * 12.9898)))


def department_requests(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    for n, a, department in _requests(plan):
        steps = max(_events_of(plan, a) - 1, 0) // len(SERVICES[_service(a)])
        status = STATUSES[min(steps, len(STATUSES)) - 1] if steps else "submitted"
        finished = "t" if status in ("approved", "certificate_issued") else "f"
        at = clock.at(_day(plan, a) + 1)
        yield (
            f"{n}\t{public_id('dr', n)}\t{a}\t{department}\tCASE-{n}\t{status}\t{at}\t{at}\t"
            f"{finished}\n"
        )


REQUESTS = (
    "department_requests",
    "id, public_id, application_id, department, case_id, status, delivered_at, checked_at, "
    "finished",
    department_requests,
)


def timeline_events(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    n = 0
    for a in range(1, plan.counts["applications"] + 1):
        day = _day(plan, a)
        departments = SERVICES[_service(a)]
        for k in range(_events_of(plan, a)):
            n += 1
            if k == 0:
                department, status = "\\N", "submitted"
            else:
                department = departments[(k - 1) % len(departments)]
                status = STATUSES[min((k - 1) // len(departments), len(STATUSES) - 1)]
            note = "Checked by the office." if status == "in_review" else ""
            data = (
                '{"fee": {"amount_minor": 4500, "currency": "EUR"}}'
                if status == "fee_due"
                else "{}"
            )
            at = clock.at(day + k, 3600 * 8 + k * 600)
            yield f"{n}\t{a}\t{department}\t{status}\t{note}\t{data}\t{at}\t{at}\n"


EVENTS = (
    "timeline_events",
    "id, application_id, department, status, note, data, occurred_at, recorded_at",
    timeline_events,
)


def conversations(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    """Web chats (signed in or not) and the SMS and WhatsApp conversations of citizens' numbers:
    one per channel and number, as the unique (channel, address) requires."""
    for c in range(1, plan.counts["conversations"] + 1):
        channel = ("sms", "whatsapp", "web")[c % 3]
        citizen = (c * 7919) % plan.counts["citizens"] + 1
        if channel == "web":
            address, owner = f"web-{c:012d}", str(citizen) if c % 2 else "\\N"
        else:  # the citizen's number, whether or not it is in their profile
            address, owner = f"+346{citizen:08d}", "\\N"
        language = ("es", "en", "ar")[c % 3]
        at = clock.at(c * DAYS // (plan.counts["conversations"] + 1))
        yield (
            f"{c}\tk{c:031d}\t{channel}\t{address}\t{owner}\t{language}\tf\t[]\tbot\t{at}\t{at}\n"
        )


def handoffs(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    """Every tenth conversation went to a person once, long since handed back."""
    for n, c in enumerate(range(10, plan.counts["conversations"] + 1, 10), start=1):
        asked = clock.at(c * DAYS // (plan.counts["conversations"] + 1), 3600 * 9)
        ended = clock.at(c * DAYS // (plan.counts["conversations"] + 1), 3600 * 10)
        yield (
            f"{n}\t{c}\tasked\t{asked}\tstaff:agent-{c % 40}\tAgent {c % 40}\t{asked}\t"
            f"{ended}\tagent\n"
        )


HANDOFFS = (
    "handoffs",
    "id, conversation_id, reason, requested_at, agent, agent_name, claimed_at, ended_at, ended_by",
    handoffs,
)

CONVERSATIONS = (
    "conversations",
    "id, key, channel, address, citizen_id, language, language_fixed, granted, status, "
    "created_at, updated_at",
    conversations,
)


def chat_messages(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    per = max(1, plan.counts["messages"] // plan.counts["conversations"])
    n = 0
    for c in range(1, plan.counts["conversations"] + 1):
        day = c * DAYS // (plan.counts["conversations"] + 1)
        for k in range(per):
            n += 1
            direction, author, body = CHAT[(c + k) % len(CHAT)]
            at = clock.at(day, 3600 * 9 + k * 30)
            answered = at if direction == "in" else "\\N"
            yield f"{n}\t{c}\t{direction}\t{author}\t{body}\t[]\t{at}\t{answered}\n"


MESSAGES = (
    "chat_messages",
    "id, conversation_id, direction, author, body, media, created_at, answered_at",
    chat_messages,
)


def payments(plan: Plan, rng: random.Random, clock: Clock) -> Iterator[str]:
    applications = plan.counts["applications"]
    for p in range(1, plan.counts["payments"] + 1):
        a = (p * 2_654_435_761) % applications + 1
        department = SERVICES[_service(a)][0]
        at = clock.at(_day(plan, a) + 2)
        status = ("success", "success", "success", "failed", "cancelled")[p % 5]
        paid = at if status == "success" else "\\N"
        yield (
            f"{p}\t{public_id('p', p)}\tvolume:{p}\tfee\t{plan.owner[a - 1]}\t{a}\t{department}\t"
            f"{reference(a)}\tFee for {department}\t{4500 + p % 7 * 500}\tEUR\tes\t"
            f"gw{p:012d}\t{status}\t{'4242' if paid != chr(92) + 'N' else chr(92) + 'N'}\t"
            f"{at}\t{at}\t{paid}\n"
        )


PAYMENTS = (
    "payments",
    "id, public_id, purpose, kind, citizen_id, application_id, department, reference, "
    "description, amount_minor, currency, language, gateway_id, status, card_last_four, "
    "created_at, updated_at, paid_at",
    payments,
)

# Loaded in this order by as many processes as asked; the largest first so that they end together.
TABLES = [
    EVENTS,
    MESSAGES,
    CITIZENS,
    APPLICATIONS,
    DRAFTS,
    REQUESTS,
    PAYMENTS,
    CONVERSATIONS,
    HANDOFFS,
]
Table = tuple[str, str, Callable[[Plan, random.Random, Clock], Iterator[str]]]


def load(conninfo: str, plan: Plan, table: Table) -> tuple[str, int, float]:
    """COPY one table from its generator; foreign keys are not checked while loading."""
    name, columns, rows = table
    started = time.monotonic()
    rng = random.Random(f"{plan.seed}:{name}")
    with psycopg.connect(conninfo) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute("SET synchronous_commit = off")
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                for chunk in _lines(rows(plan, rng, Clock(rng))):
                    copy.write(chunk)
            count = cursor.rowcount
    return name, count, time.monotonic() - started


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create(server: str, database: str) -> str:
    """An empty database at the newest migration; any earlier one of that name is dropped."""
    with psycopg.connect(_conninfo(f"{server}/postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    url = f"{server}/{database}"
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "FRONTDOOR_DATABASE_URL": url},
        check=True,
    )
    return url


def finish(conninfo: str) -> None:
    """Sequences past the ids written, and the statistics and visibility a live database has."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for name, _, _ in TABLES:  # our own table names
            last = f"(SELECT coalesce(max(id), 0) + 1 FROM {name})"  # noqa: S608
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {last}, false)"
            )
        connection.execute("VACUUM (ANALYZE)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=SERVER, help=f"PostgreSQL server ({SERVER})")
    parser.add_argument("--database", default=DATABASE, help=f"made anew ({DATABASE})")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of a city (1.0)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    started = time.monotonic()
    url = create(args.server, args.database)
    plan = Plan.make(args.scale, args.seed)
    print(f"planned in {time.monotonic() - started:.0f} s: {plan.counts}", flush=True)
    conninfo = _conninfo(url)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(load, conninfo, plan, table) for table in TABLES]
        for future in futures:
            name, count, took = future.result()
            print(f"{name:<22}{count:>12,} rows {took:>7.0f} s", flush=True)
    loaded = time.monotonic()
    finish(conninfo)
    print(f"vacuumed and analysed in {time.monotonic() - loaded:.0f} s")
    with psycopg.connect(conninfo) as connection:
        size = connection.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"{args.database}: {size.fetchone()[0]}, {time.monotonic() - started:.0f} s in all")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
