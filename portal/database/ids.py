"""Public ids: what URLs, other systems and people quote, never the row number."""

from __future__ import annotations

import secrets


def new_public_id(prefix: str) -> str:
    """An unguessable id for URLs and other systems (never the row number)."""
    return f"{prefix}_{secrets.token_hex(10)}"
