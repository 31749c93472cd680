"""The shared services as Litestar dependencies (portal/app.py registers them app-wide): a route
names the parameter (`backends: NamedDependency[Backends]`) instead of reaching into
`request.app.state`."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from portal.audit import AuditLog
from portal.shared.backends import Backends


def provide_backends(state: State) -> Backends:
    backends: Backends = state.backends
    return backends


def provide_audit(state: State) -> AuditLog:
    audit: AuditLog = state.audit
    return audit


DEPENDENCIES = {
    "backends": Provide(provide_backends, sync_to_thread=False),
    "audit": Provide(provide_audit, sync_to_thread=False),
}
