"""A day of payments made at once on both sides (our database and the sandbox gateway), for the
reconciliation's tests and scripts/reconcile_day.py; each side can be given a payment the other
does not have, or another state."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import insert

from portal.database import make_engine
from portal.database.ids import new_public_id
from portal.payments.models import Payment
from portal.payments.reconcile import bounds

INSERT_CHUNK = 1_000


@dataclass(frozen=True)
class Seeded:
    """What was made: every reference, and the gateway's id of each."""

    references: list[str]
    gateway_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Made:
    """One payment to make: when in the day (0..1), on which sides, and in which states."""

    at: float
    ours: str | None = "success"  # our state; None: not in our database
    theirs: str | None = "success"  # the gateway's; None: not at the gateway


def a_day() -> date:
    """A day nobody else's test uses: the sandbox gateway is shared by every test of a run."""
    return date(2040, 1, 1) + timedelta(days=secrets.randbelow(50 * 365))


def seed_day(sandbox_url: str, database_url: str, day: date, made: list[Made]) -> Seeded:
    start, end = bounds(day)
    tag = secrets.token_hex(3).upper()
    rows: list[dict[str, Any]] = []
    gateway: list[dict[str, Any]] = []
    references = []
    for number, payment in enumerate(made):
        reference = f"RC-{tag}-{number:05d}"
        public_id = new_public_id("pay")
        when = start + (end - start) * payment.at
        references.append(reference)
        if payment.theirs is not None:
            gateway.append(
                {
                    "amount": 6000,
                    "reference": reference,
                    "description": "Parking fine",
                    "created_date": when.isoformat(),
                    "status": payment.theirs,
                    "metadata": {"payment": public_id},
                }
            )
        if payment.ours is not None:
            rows.append(
                {
                    "public_id": public_id,
                    "purpose": f"bill:{reference}",
                    "kind": "bill",
                    "reference": reference,
                    "description": "Parking fine",
                    "amount_minor": 6000,
                    "currency": "EUR",
                    "language": "en",
                    "status": payment.ours,
                    "created_at": when - timedelta(milliseconds=200),  # ours first, then theirs
                    "updated_at": when,
                    "_theirs": payment.theirs is not None,
                }
            )
    answer = httpx.post(
        f"{sandbox_url}/_sandbox/payments/seed", json={"payments": gateway}, timeout=120
    )
    answer.raise_for_status()
    ids = dict(zip((g["reference"] for g in gateway), answer.json()["payment_ids"], strict=True))
    for row in rows:
        row["gateway_id"] = (
            ids.get(row["reference"]) if row.pop("_theirs") else new_public_id("pay_lost")
        )
        row["paid_at"] = row["updated_at"] if row["status"] == "success" else None
    if not rows:
        return Seeded(references, ids)
    with ThreadPoolExecutor(max_workers=1) as pool:  # safe where an event loop is running
        pool.submit(asyncio.run, _insert(database_url, rows)).result()
    return Seeded(references, ids)


async def _insert(database_url: str, rows: list[dict[str, Any]]) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            for first in range(0, len(rows), INSERT_CHUNK):
                await connection.execute(insert(Payment), rows[first : first + INSERT_CHUNK])
    finally:
        await engine.dispose()


def spread(count: int, **states: Any) -> list[Made]:
    """`count` payments spread evenly over the day, all alike."""
    return [Made(at=(number + 0.5) / count, **states) for number in range(count)]
