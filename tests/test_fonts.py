"""The fonts PDFs are drawn with, as `make setup` cut them: every letter of every text the portal
and its services show, in every language, is still in them, and an Arabic summary still reads."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from babel.messages.pofile import read_po
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from portal.i18n.fonts import kept
from portal.i18n.paper import Paper
from portal.settings import ROOT, Settings

FONTS = ROOT / "build" / "fonts"


def _letters() -> set[str]:
    """Every character of every message, translated or not, and of every service definition."""
    found: set[str] = set()
    for po in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as handle:
            for message in read_po(handle):
                for text in (message.id, message.string):
                    for part in text if isinstance(text, tuple) else (text,):
                        found.update(part or "")
    for definition in Settings().catalogue_dir.rglob("*.yaml"):
        found.update(definition.read_text(encoding="utf-8"))
    return {c for c in found if unicodedata.category(c)[0] not in ("C", "Z")}


def test_every_letter_the_portal_shows_is_in_both_fonts() -> None:
    letters = _letters()
    assert {"é", "ñ", "¿", "ع", "ي", "€"} <= letters  # the catalogues were read
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        mapped = TTFont(FONTS / name).getBestCmap()
        missing = sorted(c for c in letters if ord(c) not in mapped)
        assert missing == [], f"{name} lacks {missing}"
        assert len(TTFont(FONTS / name).getGlyphOrder()) < 3500  # it was cut


def test_the_cut_keeps_scripts_a_city_may_add_and_drops_the_rest() -> None:
    mapped = TTFont(FONTS / "DejaVuSans.ttf").getBestCmap()
    for letter in ("ж", "λ", "ש", "\u0584", "پ", "ﻉ", "₺", "→"):  # an Armenian keh, an Arabic form
        assert kept(letter) and ord(letter) in mapped, letter
    assert not kept("┼") and ord("┼") not in mapped  # box drawing


def test_an_arabic_summary_drawn_with_the_cut_fonts_reads_as_written(tmp_path: Path) -> None:
    paper = Paper("ملخص الطلب", "ar", FONTS, title_size=18)
    paper.pairs([("الاسم", "دانة"), ("Business", "Café Ñandú")], 11, gap=3)
    drawn = PdfReader(io.BytesIO(paper.output())).pages[0].extract_text()
    text = unicodedata.normalize("NFKC", drawn)
    for words in ("ملخص", "دانة", "Café Ñandú"):
        assert words in text
