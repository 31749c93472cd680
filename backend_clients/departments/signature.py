"""The departments' webhook signature: `X-Frontdoor-Signature: t=<unix seconds>,v1=<hex>`.

v1 is HMAC-SHA256 over "<t>." + the raw body with the shared secret. The timestamp inside the
signed message is what stops an old push from being replayed: a `t` further than `tolerance`
seconds from our clock is refused, whichever way.
"""

from __future__ import annotations

import hashlib
import hmac
import re

HEADER = "X-Frontdoor-Signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _digest(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The header value for a body sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, body, timestamp)}"


def _parse(header: str) -> tuple[int, list[str]] | None:
    """The timestamp and v1 digests, or None for anything not exactly in the expected shape.

    Unknown schemes (say a future v2) are skipped so that a sender can add one without breaking
    receivers; several v1 values are allowed, as while a secret is being rotated.
    """
    timestamp: int | None = None
    digests: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            return None
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                return None
            timestamp = int(value)
        elif key == "v1":
            if not _DIGEST.fullmatch(value):
                return None
            digests.append(value)
    if timestamp is None or not digests:
        return None
    return timestamp, digests


def verify(secret: bytes, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """Whether the header signs this exact body with this secret, recently enough."""
    parsed = _parse(header)
    if parsed is None:
        return False
    timestamp, digests = parsed
    if abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, body, timestamp).encode()
    # Check every candidate so the time taken does not tell which one came close.
    matches = [hmac.compare_digest(expected, digest.encode()) for digest in digests]
    return any(matches)
