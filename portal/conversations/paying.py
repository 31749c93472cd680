"""A link to pay a bill or a fine by its reference (the web's look-up page, filled in), or an
application's fee (the application's news, with its pay link)."""

from __future__ import annotations

import re

from backend_clients.http import BackendError, BackendRejected
from portal.applications.references import parse_reference
from portal.conversations.status import APPLICATION, application_status, lookup_allowed, too_many
from portal.conversations.turn import Outcome, Turn
from portal.i18n import gettext as _
from portal.i18n.formatting import format_minor

BILL = re.compile(r"\bBL[\s-]?[0-9A-Z]{4}[\s-]?[0-9A-Z]{4}\b", re.IGNORECASE)


async def pay(turn: Turn) -> Outcome:
    web = f"{turn.public_url}/pay-a-bill"
    found = BILL.search(turn.text)
    if found is None:
        if APPLICATION.search(turn.text):
            return await application_status(turn)  # its fee, with the link to pay it
        return Outcome(
            [
                _(
                    "Send me the reference on your bill or fine (like BL-7K3M-9QX1) and I will "
                    "send you a link to pay it. For an application's fee, send me the "
                    "application's reference."
                )
            ]
        )
    reference = parse_reference(found.group(0), "BL")
    if reference is None:
        return Outcome(
            [_("That reference does not look right. It looks like BL-7K3M-9QX1: please check it.")]
        )
    if not await lookup_allowed(turn):
        return too_many()
    try:
        bill = await turn.backends.bills.get_bill(reference)
    except BackendRejected as error:
        if error.status_code != 404:
            raise  # the office refused the request itself: the bot says sorry
        return Outcome(
            [
                _(
                    "There is no bill with the reference %(reference)s. Check it and try again.",
                    reference=reference,
                )
            ]
        )
    except BackendError:
        return Outcome(
            [
                _(
                    "Bills cannot be looked up at the moment. Try again in a few minutes, or "
                    "pay here: %(link)s",
                    link=web,
                )
            ]
        )
    if bill.status == "paid":
        return Outcome(
            [_("Bill %(reference)s is already paid. Nothing more to do.", reference=reference)]
        )
    amount = format_minor(bill.amount_minor, bill.currency)
    return Outcome(
        [
            _(
                "Bill %(reference)s: %(amount)s to pay. Pay it securely here: %(link)s",
                reference=reference,
                amount=amount,
                link=f"{web}?reference={reference}",
            )
        ]
    )
