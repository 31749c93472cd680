"""Finding a service by words, in the language the citizen reads the site in.

Texts are compared folded (portal.i18n.folding): case, accents and Arabic diacritics ignored.
"""

from __future__ import annotations

import re
from collections import Counter

from portal.catalogue.loader import Catalogue
from portal.catalogue.models import Entry, Service
from portal.i18n import gettext as _
from portal.i18n.folding import fold


def search(catalogue: Catalogue, query: str) -> list[Entry]:
    """Services and pages whose translated texts hold every word of `query`, best first."""
    words = fold(query).split()
    if not words:
        return []
    found: list[tuple[int, str, Entry]] = []
    for entry in catalogue.entries():
        title = fold(_(entry.title))
        topic = catalogue.topics[entry.topic]
        others = fold(
            " ".join(
                [_(entry.summary), _(topic.title), *(_(keyword) for keyword in entry.keywords)]
            )
        )
        if all(word in title or word in others for word in words):
            score = sum(2 if word in title else 1 for word in words)
            found.append((-score, title, entry))
    return [entry for _score, _title, entry in sorted(found, key=lambda item: item[:2])]


def suggest(catalogue: Catalogue, sentence: str, limit: int = 3) -> list[Service]:
    """Services that share words with a sentence ("how do I open a shop?"), most shared first.

    A word found in half the services' start pages or more ("the", "is", the city's name) tells
    nothing, so it is ignored: "how much is a trade licence?" is about trade, not "is".
    """
    asked = set(re.findall(r"\w+", fold(sentence)))
    texts: dict[str, set[str]] = {}
    for service in catalogue.services.values():
        topic = catalogue.topics[service.topic]
        parts = [_(service.title), _(service.summary), _(topic.title)]
        parts.extend(_(keyword) for keyword in service.keywords)
        texts[service.id] = set(re.findall(r"\w+", fold(" ".join(parts))))
    pages = Counter(word for page in _pages(catalogue) for word in page)
    everywhere = {word for word, count in pages.items() if count * 2 >= len(texts)}
    scored = []
    for service in catalogue.services.values():
        shared = (asked & texts[service.id]) - everywhere
        if shared:
            scored.append((-len(shared), _(service.title), service))
    return [service for _score, _title, service in sorted(scored, key=lambda item: item[:2])][
        :limit
    ]


def _pages(catalogue: Catalogue) -> list[set[str]]:
    """The words of each service's start page, in the reader's language."""
    pages = []
    for service in catalogue.services.values():
        texts = [service.title, service.summary, service.duration, service.cost]
        texts += [*service.keywords, *service.you_need, *service.eligibility]
        texts.append(service.what_happens_next)
        pages.append(set(re.findall(r"\w+", fold(" ".join(_(text) for text in texts)))))
    return pages
