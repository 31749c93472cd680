"""The receipt, for the page and as a PDF in the reader's language (portal/i18n/paper.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from portal.i18n import gettext as _
from portal.i18n.formatting import format_datetime, format_minor
from portal.i18n.paper import Paper
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
    paper = Paper(_("Payment receipt"), language, fonts_dir, title_size=22)
    paper.pairs([(item.label, item.value) for item in receipt_lines(payment)], 12, gap=4)
    paper.pdf.ln(4)
    paper.line(_("Keep this receipt for your records."), 10)
    return paper.output()
