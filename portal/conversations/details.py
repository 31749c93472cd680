"""What a citizen's message already says, read without the classifier: a greeting or thanks in
front of a request, the kind of problem, the place, a yes or a no, a language named. Plain
functions over the text (no I/O), so every rule is tested per language without a bot.

Words are compared folded (portal.i18n.folding): case, accents and Arabic letter variants
ignored."""

from __future__ import annotations

import re

from babel import Locale

from portal.i18n.folding import fold
from portal.i18n.locale import languages

# A greeting or thanks in front of the request it comes with ("hi, where is my application?").
GREETINGS = (
    *("hello there", "hello", "hi there", "hi", "hey", "good morning", "good afternoon"),
    *("good evening", "thank you very much", "thank you", "thanks a lot", "thanks", "cheers"),
    *("hola", "buenos dias", "buenas tardes", "buenas noches", "buenas", "muchas gracias"),
    *("gracias", "saludos"),
    *("السلام عليكم", "مرحبا", "اهلا وسهلا", "اهلا", "صباح الخير", "مساء الخير", "شكرا جزيلا"),
    "شكرا",
)
_GREETING = re.compile(
    r"^\s*(?:" + "|".join(re.escape(g) for g in GREETINGS) + r")(?![\w])(?P<sep>[\s,.;:!?،؛؟-]*)",
    re.IGNORECASE,
)
_AND = re.compile(r"^(?:and|also|y|tambien|و)\s+|^و(?=\w)", re.IGNORECASE)

YES = {
    *("yes", "y", "yeah", "yep", "yes please", "ok", "okay", "sure", "correct", "right", "send"),
    *("si", "s", "vale", "claro", "correcto", "exacto", "de acuerdo", "si por favor", "enviar"),
    *("نعم", "ايوه", "ايوا", "اجل", "صح", "صحيح", "تمام", "موافق", "ارسل"),
}
NO = {
    *("no", "n", "nope", "not", "wrong", "no thanks", "cancel"),
    *("no gracias", "incorrecto", "cancelar"),
    *("لا", "كلا", "خطا", "لا شكرا", "الغاء"),
}

# Words that put a place after them: "a pothole ON Calle Mayor", "farola rota EN la plaza".
PLACE_BEFORE = tuple(
    tuple(words.split())
    for words in (
        *("on", "at", "in", "near", "outside", "opposite", "next to", "by"),
        *("en", "cerca de", "junto a", "junto al", "frente a", "frente al", "enfrente de"),
        *("في", "عند", "قرب", "بالقرب من", "امام", "بجانب", "مقابل"),
    )
)
_SINGLE_PLACE_WORDS = {words[0] for words in PLACE_BEFORE if len(words) == 1}
ARTICLES = {"the", "a", "an", "la", "el", "los", "las", "un", "una", "del", "al", "de"}
# Whose place it is says nothing of where: "in my street", "en mi calle", "شارعي".
POSSESSIVES = {
    *("my", "our", "your", "his", "her", "their", "mi", "mis", "nuestra", "nuestro", "su"),
    *("شارعي", "حارتي", "بيتي", "منزلي", "حينا"),
}
# A kind of place, which alone does not say which one: "on the road", "en la calle". (A town's
# "plaza" is its square, which the geocoder finds: "farola rota en la plaza".)
PLACE_KINDS = {"street", "road", "calle", "carretera", "شارع", "الشارع", "طريق", "الطريق"}
# Words that start the name of a place ("calle Mayor", "شارع النيل") or end it ("Mill Lane").
LEADING_STREET_WORDS = {
    *("calle", "avenida", "plaza", "paseo", "camino", "carretera", "rue"),
    *("شارع", "الشارع", "طريق", "ميدان", "ساحه", "جسر"),
}
TRAILING_STREET_WORDS = {"street", "road", "lane", "avenue", "square", "walk", "bridge"}
# Where a place stops: the end of a sentence or a clause.
_PLACE_END = re.compile(r"[,.;:!?¿¡،؛؟\n]")


def _same_length_fold(text: str) -> str:
    """The text folded, where folding keeps its length (so positions carry over); else as is."""
    folded = fold(text)
    return folded if len(folded) == len(text) else text


def request_part(text: str) -> str:
    """The message without a greeting or thanks in front of a request ("hi, where is my
    application?" -> "where is my application?", "thanks and where is it"). The greeting must
    be set apart by punctuation or an "and" ("thank you so much" is all thanks); a message that is
    only a greeting, or a greeting and one word ("thanks, bye"), is kept as it is."""
    rest, set_apart = text, False
    while (found := _GREETING.match(_same_length_fold(rest))) is not None and found.end() > 0:
        set_apart = found.group("sep").strip() != ""
        rest = rest[found.end() :]
    rest = rest.strip()
    set_apart = set_apart or _AND.match(fold(rest)) is not None
    if rest == text.strip() or not set_apart or len(re.findall(r"\w+", rest)) < 2:
        return text
    return _AND.sub("", rest, count=1).strip() or text


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def answer(text: str) -> str:
    """A short answer as compared with the word lists: folded, without punctuation."""
    return " ".join(_words(text))


def says_yes(text: str) -> bool:
    return answer(text) in YES


def says_no(text: str) -> bool:
    return answer(text) in NO


_LEADING_NO = re.compile(r"^\s*(?:no|not that|لا)(?![\w])[\s,.;:!،-]+(?=\w)", re.IGNORECASE)


def after_no(text: str) -> str:
    """An answer without the "no" in front of what it says instead ("no, Calle Mayor 23")."""
    return _LEADING_NO.sub("", text, count=1)


def place_query(text: str) -> str:
    """A place as typed, without what is not part of it: words in front of it ("in the"),
    and what follows a comma or the end of a sentence ("14 Mill Lane, by the school")."""
    words = _PLACE_END.split(text.strip(), maxsplit=1)[0].split()
    while words and (fold(words[0]) in ARTICLES or (fold(words[0]),) in PLACE_BEFORE):
        words = words[1:]
    return " ".join(words)


def _says_where(place: str, generic: frozenset[str]) -> bool:
    """Whether a place names somewhere: not whose it is ("my street"), and not only kinds of
    place or of problem ("the road", "the street light")."""
    words = _words(place)
    if not words or POSSESSIVES & set(words):
        return False
    return any(word not in ARTICLES | PLACE_KINDS | generic for word in words)


def _place_words(folded: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each place word ("on", "cerca de") among the words of a clause."""
    spans = []
    for index in range(len(folded)):
        for before in PLACE_BEFORE:
            if tuple(folded[index : index + len(before)]) == before:
                spans.append((index, index + len(before)))
                break
    return spans


def names_a_street(place: str) -> bool:
    """Whether a place has a street word or a number, as an address has."""
    words = _words(place)
    streets = LEADING_STREET_WORDS | TRAILING_STREET_WORDS
    return any(word in streets or word.isdigit() for word in words)


def places_in(text: str, problem_words: frozenset[str] = frozenset()) -> list[str]:
    """The places a message may name, as geocoder queries, those with a street word or a
    number first: the words after a place word up to the next one or the end of the clause
    ("pothole on Calle Mayor 18" -> "Calle Mayor 18"), and a street's name found by its
    street word ("bache calle Mayor", "pothole Harbour Street"). `problem_words`: the words
    of the kinds of problem, which are not places."""
    found: list[str] = []
    for clause in _PLACE_END.split(text):
        words = clause.split()
        folded = [answer(word) for word in words]
        spans = _place_words(folded)
        stops = [start for start, _end in spans] + [len(words)]
        found += [
            place_query(" ".join(words[end : stops[number + 1]]))
            for number, (_start, end) in enumerate(spans)
        ]
        not_names = ARTICLES | POSSESSIVES | PLACE_KINDS | problem_words | _SINGLE_PLACE_WORDS
        for index, word in enumerate(folded):
            if word in LEADING_STREET_WORDS:
                stop = next((s for s in stops if s > index), len(words))
                found.append(place_query(" ".join(words[index:stop])))
            elif word in TRAILING_STREET_WORDS and not set(folded[index + 1 : index + 2]) & (
                problem_words
            ):  # "street light" is a kind of problem
                start = index
                while start > max(0, index - 3) and folded[start - 1] not in not_names:
                    start -= 1
                found.append(" ".join(words[start : index + 1]))
    places = [place for place in dict.fromkeys(found) if _says_where(place, problem_words)]
    return sorted(places, key=lambda place: not names_a_street(place))


def shorter(query: str) -> list[str]:
    """The query, then without its last words one at a time (at most four tries, at least two
    words), for a place followed by more words ("calle Mayor desde hace semanas")."""
    words = query.split()
    tries = [" ".join(words[:end]) for end in range(len(words), 1, -1)][:4]
    tries = [attempt for attempt in tries if _says_where(attempt, frozenset())]  # not "calle del"
    return tries or ([query] if query else [])


def _name_forms(name: str) -> set[str]:
    """A language's name as people write it: "العربية", "عربية", "عربي"."""
    bare = name.removeprefix("ال")
    forms = {name, name.removesuffix("ه"), bare, bare.removesuffix("ه")}  # noqa: RUF001
    return forms - {"", "ي"}


def language_named(text: str) -> str | None:
    """The language a message names, in any of the languages served ("in Spanish please",
    "en árabe", "بالعربية"); None when it names none or several."""
    words = set(_words(text))
    words |= {word.removeprefix("بال") for word in words} | {
        word.removeprefix("ب") for word in words
    }
    named = {
        code
        for code in languages()
        for reader in languages()
        if words & _name_forms(fold(Locale.parse(code).get_display_name(reader) or ""))
    }
    return named.pop() if len(named) == 1 else None
