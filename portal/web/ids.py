"""Ids in paths: one type for integer ids, and the paths no id on this site can be in.

A path names a row or nothing. An integer a table cannot hold (below 1, or past PostgreSQL's
`integer`), or a path with a control character (PostgreSQL's text refuses a NUL byte), names
nothing: the visitor gets "Page not found", never a database error.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Request
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter

MAX_ROW_ID = 2**31 - 1  # PostgreSQL's integer, the type of our primary keys

RowId = Annotated[int, Parameter(ge=1, le=MAX_ROW_ID)]
"""An integer id (or 1-based position) in a path: `edit_id: RowId`, with `{edit_id:int}`."""

RowCursor = Annotated[int, Parameter(ge=0, le=MAX_ROW_ID)]
"""An id to page from in a query (`?before=`, `?after=`; 0: from the start); out of range: 400."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


async def refuse_control_characters(request: Request[Any, Any, Any]) -> None:
    """Before any handler: a path with a control character names nothing here."""
    if _CONTROL.search(request.url.path):
        raise NotFoundException()


def names_nothing(exc: Exception) -> bool:
    """Whether a validation error is only about path parameters (an id out of range): the
    page asked for does not exist, so it is answered 404 rather than 400."""
    if not isinstance(exc, ValidationException) or not isinstance(exc.extra, list):
        return False
    sources = {error.get("source") for error in exc.extra if isinstance(error, dict)}
    return sources == {"path"}
