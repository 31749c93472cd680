"""Application references citizens read out over the phone: FD-7K3M-9QX2.

Crockford's base 32 (no I, L, O or U, so nothing looks alike), seven random characters and a
Luhn mod 32 check character that catches every single mistyped character and most swaps of two
neighbours. Reading is forgiving: lower case, spaces, missing dashes, O for 0 and I or L for 1.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "FD"
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def check_character(body: str) -> str:
    """Luhn mod N over ALPHABET."""
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // len(ALPHABET) + addend % len(ALPHABET)
    return ALPHABET[(len(ALPHABET) - total % len(ALPHABET)) % len(ALPHABET)]


def new_reference(prefix: str = PREFIX) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(7))
    code = body + check_character(body)
    return f"{prefix}-{code[:4]}-{code[4:]}"


def parse_reference(text: str, prefix: str = PREFIX) -> str | None:
    """The reference in its canonical form, or None when it is not one (check character wrong).
    The same scheme serves applications (FD) and the tax office's bills (BL)."""
    cleaned = "".join(text.upper().split()).replace("-", "")
    if len(cleaned) == 10 and cleaned.startswith(prefix):
        cleaned = cleaned[2:]
    cleaned = cleaned.translate(_LOOKALIKES)
    if len(cleaned) != 8 or any(char not in ALPHABET for char in cleaned):
        return None
    if check_character(cleaned[:7]) != cleaned[7]:
        return None
    return f"{prefix}-{cleaned[:4]}-{cleaned[4:]}"
