"""A4 documents in the reader's language (receipts, summaries for offices): DejaVu Sans covers
Latin and Arabic, HarfBuzz joins the Arabic letters, and Arabic reads right to left."""

from __future__ import annotations

import logging
from pathlib import Path

from portal.i18n import gettext as _
from portal.i18n.locale import text_direction

# fontTools reports every font it subsets at INFO: one PDF is not worth forty log lines.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def needs_shaping(text: str) -> bool:
    """Whether a line holds letters that change shape or combine: Hebrew, Arabic and their
    presentation forms, or combining accents."""
    return any(
        0x0300 <= point <= 0x036F or 0x0590 <= point <= 0x08FF or 0xFB1D <= point <= 0xFEFF
        for point in map(ord, text)
    )


class Paper:
    """One document, written a line at a time under the city's name and a title."""

    def __init__(self, title: str, language: str, fonts_dir: Path, title_size: float) -> None:
        from fpdf import FPDF  # a second's import: only when a PDF is written, not at start

        rtl = text_direction(language) == "rtl"
        self.align = "R" if rtl else "L"
        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_lang(language)
        self.pdf.set_creator(_("City of Riverside"))
        self.pdf.add_font("DejaVu", "", str(fonts_dir / "DejaVuSans.ttf"))
        self.pdf.add_font("DejaVu", "B", str(fonts_dir / "DejaVuSans-Bold.ttf"))
        self.rtl = rtl
        self.shaping = False
        self.pdf.set_margins(20, 20, 20)
        self.pdf.add_page()
        self.width = self.pdf.w - self.pdf.l_margin - self.pdf.r_margin
        self.line(_("City of Riverside"), 11)
        self.line(title, title_size, "B", gap=title_size / 4)

    def line(self, text: str, size: float, style: str = "", gap: float = 2) -> None:
        from fpdf.enums import XPos, YPos

        self.pdf.set_font("DejaVu", style, size)
        self._shape(self.rtl or needs_shaping(text))
        self.pdf.multi_cell(
            self.width, size * 0.5, text, align=self.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.pdf.ln(gap)

    def _shape(self, wanted: bool) -> None:
        """HarfBuzz joins Arabic letters and places combining accents; Latin, Greek and Cyrillic
        lines go without it (it made an office summary's lines three times as slow)."""
        if wanted != self.shaping:
            direction = "rtl" if self.rtl else "ltr"
            self.pdf.set_text_shaping(use_shaping_engine=wanted, direction=direction)
            self.shaping = wanted

    def pairs(self, items: list[tuple[str, str]], size: float, gap: float) -> None:
        """Label above value, for each pair."""
        for label, value in items:
            self.line(label, 10, "B", gap=0.5)
            self.line(value, size, gap=gap)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
