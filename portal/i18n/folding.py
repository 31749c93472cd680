"""Text as people search for it: case, accents and Arabic diacritics ignored, and the Arabic
letter variants people type interchangeably (alef forms, teh marbuta and heh, alef maqsura and
yeh) treated as one. The catalogue's search and the agents' search for a citizen's name both
compare folded texts."""

from __future__ import annotations

import unicodedata

_ARABIC = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ـ": ""})  # noqa: RUF001 - Arabic letters on purpose


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_ARABIC)
