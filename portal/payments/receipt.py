"""The PDF receipt, in the reader's language: DejaVu Sans covers Latin and Arabic, HarfBuzz joins
the Arabic letters, and an Arabic receipt reads right to left."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from portal.i18n import gettext as _
from portal.i18n.formatting import format_datetime, format_minor
from portal.i18n.locale import text_direction
from portal.payments.models import Payment


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    value: str


def receipt_lines(payment: Payment) -> list[ReceiptLine]:
    """What a receipt says, for the page and the PDF alike."""
    assert payment.paid_at is not None
    lines = [
        ReceiptLine(_("Paid for"), payment.description),
        ReceiptLine(_("Reference"), payment.reference),
        ReceiptLine(_("Amount paid"), format_minor(payment.amount_minor, payment.currency)),
        ReceiptLine(_("Date paid"), format_datetime(payment.paid_at)),
        ReceiptLine(_("Payment reference"), payment.gateway_id or ""),
    ]
    if payment.card_last_four:
        lines.append(
            ReceiptLine(_("Card"), _("ending in %(digits)s", digits=payment.card_last_four))
        )
    return lines


def receipt_pdf(payment: Payment, language: str, fonts_dir: Path) -> bytes:
    rtl = text_direction(language) == "rtl"
    align = "R" if rtl else "L"
    pdf = FPDF(format="A4")
    pdf.set_title(_("Payment receipt"))
    pdf.set_lang(language)
    pdf.set_creator(_("City of Riverside"))
    pdf.add_font("DejaVu", "", str(fonts_dir / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts_dir / "DejaVuSans-Bold.ttf"))
    pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr")
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text: str, size: float, style: str = "", gap: float = 2) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, size * 0.5, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    line(_("City of Riverside"), 11)
    line(_("Payment receipt"), 22, "B", gap=6)
    for item in receipt_lines(payment):
        line(item.label, 10, "B", gap=0.5)
        line(item.value, 12, gap=4)
    pdf.ln(4)
    line(_("Keep this receipt for your records."), 10)
    return bytes(pdf.output())
