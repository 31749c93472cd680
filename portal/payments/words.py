"""What each payment outcome means for the citizen, in their language. The gateway's own
messages go to the logs; citizens read these."""

from __future__ import annotations

from portal.i18n import lazy_gettext as _l

NOT_CHARGED = _l("You have not been charged.")
BY_CODE = {
    "P0010": _l("Your payment was declined. Try again with another card, or ask your bank why."),
    "P0011": _l("Your card does not have enough money for this payment. Try another card."),
    "P0012": _l("Your card has expired. Try again with another card."),
    "P0020": _l("Your payment timed out: it was not finished within 90 minutes. Start again."),
    "P0030": _l("You cancelled the payment."),
}
BY_STATUS = {
    "failed": _l("Your payment could not be taken. Try again."),
    "cancelled": BY_CODE["P0030"],
    "expired": BY_CODE["P0020"],
}


def outcome_message(status: str, code: str | None) -> str:
    """Why the payment did not go through, or "" when it did or has not finished."""
    if status not in BY_STATUS:
        return ""
    return str(BY_CODE.get(code or "", BY_STATUS[status]))
