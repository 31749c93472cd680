"""How long the administrators' reconciliation takes for a busy day: seeds N payments (default
10,000) in one city day, in a throwaway database and in the sandbox gateway (its test-only
/_sandbox/payments/seed), a few of them different on purpose, then times the reconciliation page
and its CSV as an administrator opens them, through the portal served as in production
(granian) and the gateway's search over HTTP.

    .venv/bin/python scripts/reconcile_day.py                 # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python scripts/reconcile_day.py --payments 2000 --sqlite

Prints each timing and the counts the page showed; exits 1 when a timing passes --budget
(default 30 s) or the page's counts are not the seeded ones.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import date
from pathlib import Path

import httpx
from bench import served, sign_in, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.payments_support import Made, seed_day, spread  # noqa: E402
from tests.support import visible_text  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
DAY = date(2026, 11, 23)
DIFFERENT = 10  # of each kind: only at the gateway, only ours, states that differ
SAID = r"[\d,]+ payments? (?:do not match|matches|match) the gateway"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds allowed per request")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    args = parser.parse_args()
    with throwaway_database(None if args.sqlite else POSTGRES, "frontdoor_reconcile") as db:
        return run(args, db)


def day_of(count: int) -> list[Made]:
    """`count` payments over the day, 3 * DIFFERENT of them differing."""
    alike = spread(count - 3 * DIFFERENT)
    odd = [
        *(Made(at=(n + 0.3) / DIFFERENT, ours=None) for n in range(DIFFERENT)),
        *(Made(at=(n + 0.6) / DIFFERENT, theirs=None) for n in range(DIFFERENT)),
        *(Made(at=(n + 0.9) / DIFFERENT, ours="submitted") for n in range(DIFFERENT)),
    ]
    return [*alike, *odd]


def run(args: argparse.Namespace, database: str | None) -> int:
    with served(database) as portal:
        began = time.perf_counter()
        seed_day(portal.sandbox_url, portal.database_url, DAY, day_of(args.payments))
        print(
            f"seeded {args.payments} payments on {DAY} (ours and the gateway's) in "
            f"{time.perf_counter() - began:.1f}s; database: {portal.database_url.split('+')[0]}"
        )
        return measure(args, sign_in(portal.base, "admin", staff=True))


def measure(args: argparse.Namespace, admin: httpx.Client) -> int:
    failed = False
    timeout = httpx.Timeout(args.budget * 2)
    for label, path in (("page", "/staff/payments"), ("CSV", "/staff/payments/export.csv")):
        began = time.perf_counter()
        answer = admin.get(path, params={"day": DAY.isoformat()}, timeout=timeout)
        took = time.perf_counter() - began
        answer.raise_for_status()
        print(f"{label}: {took:.2f}s, {len(answer.content) / 1024:.0f} KB")
        failed |= took > args.budget
        if label == "page":
            said = re.findall(SAID, visible_text(answer.text))
            print("page says: " + "; ".join(said))
            counts = [int(line.split()[0].replace(",", "")) for line in said]
            failed |= counts != [3 * DIFFERENT, args.payments - 3 * DIFFERENT]
        else:
            rows = len(answer.text.splitlines()) - 1
            print(f"CSV rows: {rows}")
            failed |= rows != args.payments
    print("within budget" if not failed else f"NOT within {args.budget:.0f}s or counts wrong")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
