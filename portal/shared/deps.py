"""The shared services as Litestar dependencies (portal/app.py registers them app-wide): a route
names the parameter (`backends: NamedDependency[Backends]`) instead of reaching into
`request.app.state`. The lifespan in portal/app.py builds each service once; these only hand it
over, so a test can swap one by registering its own provider under the same name."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from litestar.datastructures import State
from litestar.di import Provide

from backend_clients.mail import MailClient
from backend_clients.twilio import TwilioClient
from portal.audit import AuditLog
from portal.shared.backends import Backends
from portal.web.limits import Counters


def provide_backends(state: State) -> Backends:
    backends: Backends = state.backends
    return backends


def provide_audit(state: State) -> AuditLog:
    audit: AuditLog = state.audit
    return audit


@runtime_checkable
class RateLimitCounters(Counters, Protocol):
    """`Counters` as a handler parameter's type: Litestar checks a dependency's value against
    its type, and only a runtime-checkable protocol can be checked."""


def provide_counters(state: State) -> RateLimitCounters:
    """The rate-limit counters every replica shares (Redis or the database)."""
    counters: RateLimitCounters = state.counters
    return counters


def provide_mail(state: State) -> MailClient:
    mail: MailClient = state.mail
    return mail


def provide_twilio(state: State) -> TwilioClient:
    twilio: TwilioClient = state.twilio
    return twilio


DEPENDENCIES = {
    "backends": Provide(provide_backends, sync_to_thread=False),
    "audit": Provide(provide_audit, sync_to_thread=False),
    "counters": Provide(provide_counters, sync_to_thread=False),
    "mail": Provide(provide_mail, sync_to_thread=False),
    "twilio": Provide(provide_twilio, sync_to_thread=False),
}
