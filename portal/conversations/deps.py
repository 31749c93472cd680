"""What conversations give their routes as Litestar dependencies: a route names the parameter
(`gateway: NamedDependency[Gateway]`) instead of reaching into `request.app.state`. The
lifespan in portal/app.py builds the gateway once; this only hands it over."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from portal.conversations.gateway import Gateway


def provide_gateway(state: State) -> Gateway:
    gateway: Gateway = state.gateway
    return gateway


DEPENDENCIES = {"gateway": Provide(provide_gateway, sync_to_thread=False)}
