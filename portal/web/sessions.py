"""Server-side sessions: the cookie holds an opaque id, the data lives in the store.

Litestar's backend stores a session for every request, even one that came without a session
cookie and put nothing in its session: for anonymous visitors (most of them) that is one stored
empty session and one Set-Cookie per page view, and pages that cannot be cached. Ours starts a
session only when something is put in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Message, ScopeSession


class QuietSessionBackend(ServerSideSessionBackend):
    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        if not scope_session and self.config.key not in connection.cookies:
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = QuietSessionBackend
