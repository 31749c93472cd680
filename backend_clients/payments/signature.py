"""The gateway's webhook signature: HMAC-SHA256 of the raw body with the signing secret, hex, in
the Pay-Signature header. Checked over the bytes received (never re-serialised JSON), in
constant time."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Pay-Signature"


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of exactly these bytes."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().lower().encode())
