"""Text that a reader typed (or a number) shown inside a page of another direction.

In an Arabic page a phone number `+212600111222` reads `212600111222+`, and an English answer
gets its full stop at the wrong end, unless the value is isolated from the text around it
(Unicode's bidirectional algorithm, HTML's `<bdi>`). Every echoed value goes through `isolate`.
"""

from __future__ import annotations

from typing import Literal

from markupsafe import Markup

Direction = Literal["auto", "ltr", "rtl"]


def isolate(value: object, direction: Direction = "auto") -> Markup:
    """`value` escaped inside a `<bdi>`: its own direction ("auto": its first strong letter;
    "ltr" for what has no letters but must read left to right, such as a phone number)."""
    return Markup('<bdi dir="{}">{}</bdi>').format(direction, value)
