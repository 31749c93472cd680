"""Server-side sessions: the cookie holds an opaque id, the data lives in the store.

Three changes to Litestar's backend:
- it stores a session for every request, even one that came without a cookie and kept nothing:
  one store write and one Set-Cookie per anonymous page view, and pages that cannot be cached.
  Ours starts a session only when something is kept in it, and ends it when it is emptied;
- it adopts any id a browser sends, so an attacker could plant an id and wait for the victim to
  sign in (session fixation). Ours issues a fresh id whenever the cookie's id is not in the store;
- it writes the session back after every request, changed or not: a write per signed-in page
  view (on SQLite, every worker waiting for the file lock). Ours writes only what changed, and
  otherwise just refreshes the cookie;
- it "removes" a session's cookie with value null and the usual Max-Age, which the browser
  keeps for half an hour. Ours expires it at once (Max-Age=0, same name, path and flags).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from portal.web.csrf import new_token

_FRESH_ID = "frontdoor_fresh_session_id"
_LOADED = "frontdoor_session_as_loaded"
AnyConnection = ASGIConnection[Any, Any, Any, Any]


class QuietSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: AnyConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        if not data and connection.cookies.get(self.config.key):
            # An id we did not issue, or one that expired: never adopt it.
            connection.scope["state"][_FRESH_ID] = self.generate_session_id()
        elif data:
            connection.scope["state"][_LOADED] = self.serialize_data(data, connection.scope)
        return data

    def get_session_id(self, connection: AnyConnection) -> str:
        fresh: str | None = connection.scope["state"].get(_FRESH_ID)
        return fresh or super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: AnyConnection
    ) -> None:
        headers = MutableScopeHeaders.from_message(message)
        if not scope_session or scope_session is Empty:
            if self.config.key not in connection.cookies:
                return
            # Emptied, or unknown: forget it and make the browser drop the cookie now.
            old = connection.cookies[self.config.key]
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
            expired = self._cookie("", max_age=0, expires=0)
            headers.add("Set-Cookie", expired.to_header(header=""))
            return
        state = connection.scope["state"]
        unchanged = _FRESH_ID not in state and state.get(_LOADED) == self.serialize_data(
            scope_session, connection.scope
        )
        if not unchanged:
            await super().store_in_message(scope_session, message, connection)
            return
        cookie = self._cookie(self.get_session_id(connection))
        headers.add("Set-Cookie", cookie.to_header(header=""))

    def _cookie(self, value: str, **overrides: Any) -> Cookie:
        """The session cookie with the configured name, path and flags."""
        params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        return Cookie(key=self.config.key, value=value, **{**params, **overrides})


async def fresh_session(request: Request[Any, Any, Any], data: dict[str, Any]) -> None:
    """Start this browser over with a new session holding only `data` (at every sign-in and
    sign-out): a new id against fixation, the old one forgotten, and nothing of the previous
    person's (payments, bills found, chat, purposes) carried over, and a new CSRF token. The
    language is a cookie of its own and stays."""
    config: SessionConfig = request.app.state.session_config
    old = request.cookies.get(config.key)
    if old:
        await config.get_store_from_app(request.app).delete(old)
    request.scope["state"][_FRESH_ID] = secrets.token_hex(config.session_id_bytes)
    request.set_session(dict(data))
    new_token(request)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = QuietSessionBackend
