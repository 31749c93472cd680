"""What the portal and the worker count, as Prometheus metrics (prometheus_client).

Under `portal serve` each ASGI worker process writes its counts to files in
PROMETHEUS_MULTIPROC_DIR and the metrics port adds them up (portal.observability.exporter); the
outbox worker is one process and serves its own. Labels are bounded: routes are templates
("/applications/{reference}"), never raw paths, and an unmatched path is "unmatched".

Queue sizes (the outbox per backend, the hand-off queue, open payments) are not counted here:
they are read from the database at each scrape (portal.observability.database), so every
replica reports the same truth.
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Outbox kinds that tell a citizen something on their chosen channel.
NOTIFICATION_KINDS = frozenset({"notify", "draft_warning"})

HTTP_REQUESTS = Counter(
    "frontdoor_http_requests",
    "Requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "frontdoor_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DELIVERIES = Counter(
    "frontdoor_outbox_deliveries",
    "Outbox attempts ended, by backend (the message's target) and outcome: done, retry "
    "(the backend was down or slow), failed (refused; parked for a person), lost (another "
    "worker had taken the message).",
    ["target", "outcome"],
)
NOTIFICATIONS = Counter(
    "frontdoor_notifications",
    "Notifications to citizens ended, by channel (mail, sms, whatsapp) and outcome.",
    ["channel", "outcome"],
)
BOT_TURN = Histogram(
    "frontdoor_bot_turn_seconds",
    "Time the assistant took to answer one message, by outcome (ok, unavailable).",
    ["outcome"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0),
)
HANDOFF_WAIT = Histogram(
    "frontdoor_handoff_wait_seconds",
    "Time a conversation handed to a person waited until an agent claimed it, by why it was "
    "handed over (asked, not_understood).",
    ["reason"],
    buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
RETENTION_PURGED = Counter(
    "frontdoor_retention_purged",
    "Things deleted by the worker once past their retention period, by kind (drafts, "
    "sign_in_codes, sessions, web_chats, bot_models).",
    ["kind"],
)
BACKEND_UP = Gauge(
    "frontdoor_backend_up",
    "1 when the backend answered its last check (messaging, mail), else 0. Third parties: an "
    "outage shows here and never takes the portal out of rotation.",
    ["backend"],
    multiprocess_mode="livemostrecent",
)


class Finished(Protocol):
    """What an outbox message tells about itself (portal.outbox.models.OutboxMessage)."""

    @property
    def kind(self) -> str: ...
    @property
    def target(self) -> str: ...


def request_finished(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "OTHER"
    labels = (method, route, str(status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_DURATION.labels(*labels).observe(seconds)


def delivered(target: str, outcome: str) -> None:
    """One outbox attempt to `target` ended with `outcome` (done, retry, failed, lost)."""
    DELIVERIES.labels(target, outcome).inc()


def outbox_finished(message: Finished, outcome: str) -> None:
    """The outbox worker's `on_finish` hook: the delivery, and the notification it carried."""
    delivered(message.target, outcome)
    if message.kind in NOTIFICATION_KINDS:
        NOTIFICATIONS.labels(message.target, outcome).inc()


def bot_turn(seconds: float, outcome: str) -> None:
    BOT_TURN.labels(outcome).observe(seconds)


def handoff_claimed(reason: str, waited_seconds: float) -> None:
    HANDOFF_WAIT.labels(reason or "unknown").observe(max(waited_seconds, 0.0))


def backend_checked(backend: str, up: bool) -> None:
    BACKEND_UP.labels(backend).set(1 if up else 0)


def retention_purged(kind: str, count: int) -> None:
    """`count` things of `kind` deleted by one retention purge."""
    RETENTION_PURGED.labels(kind).inc(count)
