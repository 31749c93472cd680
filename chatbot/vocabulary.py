"""The words the bot was taught, and whether a message uses any of them (plain Python, no Rasa:
chatbot/known_words.py runs it inside the NLU pipeline, and the portal's tests run it as it is).

A message that shares no word with the examples of the bot's skills cannot be about them,
however sure the classifier is: keyboard mashing ("asdf qwerty zzz", "jjjjjj"), laughter
("jajaja", "ههههه") and emoji alone share none. Words are compared folded (case, accents,
Arabic diacritics and letter variants ignored); a word of three letters or more also counts as
known when one letter added, dropped, changed or swapped makes it a known one ("payy", "oki"),
and one of five or more when it starts as a known word does ("adiosito", "cancélalo"), so a typo
or another ending is not mistaken for nonsense."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_ARABIC = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ـ": ""})  # noqa: RUF001 - Arabic letters
FUZZY_FROM = 3  # shorter words must be exact: one letter changes a short word too much
STEM = 5  # letters two words must start with alike to be one word with other endings


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_ARABIC)


def words(text: str) -> list[str]:
    """The folded words of `text`: letters and digits only (emoji and punctuation are none)."""
    return re.findall(r"[^\W_]+", fold(text))


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True)
class Vocabulary:
    known: frozenset[str]  # the words of the skills' examples
    near: frozenset[str]  # those of FUZZY_FROM letters or more, each with one letter dropped
    stems: frozenset[str]  # the first STEM letters of the longer ones

    @classmethod
    def learn(cls, texts: Iterable[str]) -> Vocabulary:
        """From the texts of the skills' examples (not the out-of-scope ones)."""
        known = {word for text in texts for word in words(text)}
        near = {
            shorter for word in known if len(word) >= FUZZY_FROM for shorter in _deletions(word)
        }
        stems = {word[:STEM] for word in known if len(word) >= STEM}
        return cls(frozenset(known), frozenset(near), frozenset(stems))

    def knows(self, word: str) -> bool:
        if word.isdigit():  # a number may answer a question (an item of a list)
            return True
        if word in self.known or (len(word) >= STEM and word[:STEM] in self.stems):
            return True
        if len(word) < FUZZY_FROM:
            return False
        dropped = _deletions(word)
        return (
            word in self.near  # a letter missing
            or not dropped.isdisjoint(self.known)  # a letter too many
            or not dropped.isdisjoint(self.near)  # a letter changed, or two swapped
        )

    def shares(self, text: str) -> bool:
        """Whether `text` has at least one known word."""
        return any(self.knows(word) for word in words(text))
