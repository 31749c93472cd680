"""The readiness checks as a Litestar dependency (`readiness: NamedDependency[Readiness]`),
built once by the lifespan in portal/app.py."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from portal.health.readiness import Readiness


def provide_readiness(state: State) -> Readiness:
    readiness: Readiness = state.readiness
    return readiness


DEPENDENCIES = {"readiness": Provide(provide_readiness, sync_to_thread=False)}
