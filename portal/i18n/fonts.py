"""The fonts PDFs are drawn with, cut at build time to the scripts a city's languages are written
in: `python -m portal.i18n.fonts build/fonts` (make setup and the image run it).

fpdf reads a document's fonts whole for every receipt and office summary; DejaVu Sans has 6,253
glyphs (box drawing, mathematics, Braille, ...), and reading them made a summary cost 120 ms of
a worker's CPU, twice what all its other deliveries for that application cost. What is kept:
Latin, Greek, Cyrillic, Armenian, Hebrew and Arabic (with the forms HarfBuzz joins letters into),
punctuation, currency signs and arrows; a citizen's text in another script was never drawn
anyway (DejaVu has no CJK or Indic letters), and tests check every text of every catalogue.
"""

from __future__ import annotations

import sys
from pathlib import Path

KEPT = (
    (0x0000, 0x036F),  # Basic Latin to the combining accents
    (0x0370, 0x052F),  # Greek, Cyrillic and its supplement
    (0x0530, 0x05FF),  # Armenian, Hebrew
    (0x0600, 0x06FF),  # Arabic
    (0x0750, 0x077F),  # Arabic supplement
    (0x08A0, 0x08FF),  # Arabic extended-A
    (0x1E00, 0x1FFF),  # Latin extended additional, Greek extended
    (0x2000, 0x206F),  # general punctuation
    (0x20A0, 0x20CF),  # currency signs
    (0x2100, 0x21FF),  # letterlike symbols, number forms, arrows
    (0x2212, 0x2212),  # minus
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms A
    (0xFE70, 0xFEFF),  # Arabic presentation forms B
    (0xFFFD, 0xFFFD),  # the replacement character
)


def kept(character: str) -> bool:
    """Whether PDFs can draw this character (when the full font has it)."""
    point = ord(character)
    return any(low <= point <= high for low, high in KEPT)


def subset(path: Path) -> int:
    """Cut one font file in place; the glyphs left."""
    from fontTools import subset as cut
    from fontTools.ttLib import TTFont

    options = cut.Options(layout_features=["*"], notdef_outline=True, name_IDs=["*"])
    font = TTFont(path)
    subsetter = cut.Subsetter(options)
    subsetter.populate(unicodes=[point for low, high in KEPT for point in range(low, high + 1)])
    subsetter.subset(font)
    font.save(path)
    return len(font.getGlyphOrder())


def main(directory: str) -> None:
    import logging

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "FFTM NOT subset": not needed
    for path in sorted(Path(directory).glob("*.ttf")):
        print(f"{path}: {subset(path)} glyphs kept")


if __name__ == "__main__":
    main(sys.argv[1])
