"""Queues read from the database at each scrape: the same answer from every replica, and right
even when no process of this replica touched them (a worker elsewhere delivered the message).

The metrics process is not async, so it reads through a small synchronous engine of its own. The
tables are named here rather than imported from their features: this module sits below them.
A scrape that cannot read the database says so (`frontdoor_metrics_database_up 0`) and gives
the rest of the metrics anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import DateTime, Engine, Integer, String, column, create_engine, func, select, table
from sqlalchemy.engine import make_url

log = structlog.get_logger(component="metrics")
STATEMENT_TIMEOUT_MS = 5000

outbox = table(
    "outbox_messages",
    column("target", String),
    column("status", String),
    column("created_at", DateTime),
)
handoffs = table(
    "handoffs",
    column("requested_at", DateTime),
    column("claimed_at", DateTime),
    column("ended_at", DateTime),
)
payments = table("payments", column("status", String))
missing = table("missing_translations", column("language", String), column("count", Integer))


def sync_engine(database_url: str) -> Engine:
    """One connection at a time, each statement cut short after a few seconds (PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return create_engine(url.set(drivername="sqlite"), connect_args={"timeout": 5})
    return create_engine(
        url.set(drivername="postgresql+psycopg"),
        pool_size=1,
        max_overflow=0,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": 3,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            "application_name": "frontdoor-metrics",
        },
    )


def _age(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max((now - aware).total_seconds(), 0.0)


class DatabaseCollector(Collector):
    """Gauges computed from the database when Prometheus scrapes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> list[Any]:
        return []  # registering must not query the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "frontdoor_metrics_database_up",
            "1 when this scrape could read the queues from the database, else 0.",
        )
        try:
            families = self._read(datetime.now(UTC))
        except Exception as error:
            log.warning("metrics_database_unavailable", error=str(error) or repr(error))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self, now: datetime) -> list[GaugeMetricFamily]:
        with self.engine.connect() as db:
            waiting = db.execute(
                select(
                    outbox.c.target, outbox.c.status, func.count(), func.min(outbox.c.created_at)
                )
                .where(outbox.c.status.in_(("pending", "failed")))
                .group_by(outbox.c.target, outbox.c.status)
            ).all()
            queue = db.execute(
                select(func.count(), func.min(handoffs.c.requested_at)).where(
                    handoffs.c.claimed_at.is_(None), handoffs.c.ended_at.is_(None)
                )
            ).one()
            states = db.execute(
                select(payments.c.status, func.count()).group_by(payments.c.status)
            ).all()
            fallbacks = db.execute(
                select(missing.c.language, func.count(), func.sum(missing.c.count)).group_by(
                    missing.c.language
                )
            ).all()
        depth = GaugeMetricFamily(
            "frontdoor_outbox_depth",
            "Outbox messages not yet delivered, by backend (target) and status: pending (queued "
            "or retrying) or failed (parked for a person).",
            labels=["target", "status"],
        )
        oldest = GaugeMetricFamily(
            "frontdoor_outbox_oldest_age_seconds",
            "Age of the oldest pending outbox message, by backend (0 when none is pending).",
            labels=["target"],
        )
        pending: dict[str, float] = {}
        for target, status, count, first in waiting:
            depth.add_metric([target, status], count)
            if status == "pending":
                pending[target] = _age(first, now)
            else:
                pending.setdefault(target, 0.0)
        for target, age in sorted(pending.items()):
            oldest.add_metric([target], age)
        handoff_queue = GaugeMetricFamily(
            "frontdoor_handoff_queue_length",
            "Conversations handed to a person that no agent has claimed yet.",
        )
        handoff_queue.add_metric([], queue[0])
        handoff_wait = GaugeMetricFamily(
            "frontdoor_handoff_oldest_wait_seconds",
            "How long the citizen first in the hand-off queue has waited (0 when none waits).",
        )
        handoff_wait.add_metric([], _age(queue[1], now))
        payment_states = GaugeMetricFamily(
            "frontdoor_payments",
            "Payments by state (creating, created, started, submitted, success, failed, "
            "cancelled, expired); increase() over it gives how many reached a state.",
            labels=["state"],
        )
        for state, count in states:
            payment_states.add_metric([state], count)
        texts = GaugeMetricFamily(
            "frontdoor_translations_missing",
            "Texts readers met in English because their language has no translation, by language.",
            labels=["language"],
        )
        shown = GaugeMetricFamily(
            "frontdoor_translation_fallbacks",
            "Times a text was shown in English for want of a translation, by language (as each "
            "portal worker saves its counts: FRONTDOOR_MISSING_TRANSLATIONS_SAVE_SECONDS).",
            labels=["language"],
        )
        for language, keys, times in fallbacks:
            texts.add_metric([language], keys)
            shown.add_metric([language], times or 0)
        return [depth, oldest, handoff_queue, handoff_wait, payment_states, texts, shown]
