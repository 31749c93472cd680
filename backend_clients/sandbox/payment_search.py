"""The gateway's payment search, as GOV.UK Pay's "Search payments" reference describes it: the
payments created from `from_date` (included) to `to_date` (excluded), optionally of one
`reference` (any case) or `state`, newest first, in pages of `display_size` (at most 500) with
links to the first, last, previous and next page. No I/O here: the route reads and answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from backend_clients.sandbox.payments import GatewayPayment

LARGEST_PAGE = 500
STATES = frozenset({"created", "started", "submitted", "success", "failed", "cancelled", "expired"})


@dataclass(frozen=True)
class Search:
    from_date: datetime | None
    to_date: datetime | None
    reference: str | None
    state: str | None
    page: int
    display_size: int

    def matches(self, payment: GatewayPayment) -> bool:
        if self.from_date and payment.created_at < self.from_date:
            return False
        if self.to_date and payment.created_at >= self.to_date:
            return False
        if self.state and payment.status != self.state:
            return False
        wanted = self.reference
        return not wanted or str(payment.request["reference"]).casefold() == wanted.casefold()

    def href(self, base: str, page: int) -> str:
        """This search's address at another page (the same filters, the same page size)."""
        params: dict[str, Any] = {
            name: value
            for name, value in (
                ("from_date", self.from_date and self.from_date.isoformat()),
                ("to_date", self.to_date and self.to_date.isoformat()),
                ("reference", self.reference),
                ("state", self.state),
            )
            if value
        }
        params |= {"page": page, "display_size": self.display_size}
        return f"{base}/payments/v1/payments?{urlencode(params)}"


def _moment(text: str | None) -> datetime | None:
    """An ISO 8601 moment with its offset (`2026-12-05T00:00:00Z`); ValueError otherwise."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a moment needs its offset")
    return moment


def _whole(text: str | None, default: int, largest: int) -> int:
    if text is None:
        return default
    if not (text.isascii() and text.isdecimal()) or not 1 <= int(text) <= largest:
        raise ValueError("out of range")
    return int(text)


def parse(params: Mapping[str, str]) -> Search | str:
    """The search asked for, or the names of the parameters that are wrong."""
    wrong = []
    values: dict[str, Any] = {}
    for name in ("from_date", "to_date"):
        try:
            values[name] = _moment(params.get(name))
        except ValueError:
            wrong.append(name)
    for name, default, largest in (("page", 1, 10**9), ("display_size", 500, LARGEST_PAGE)):
        try:
            values[name] = _whole(params.get(name), default, largest)
        except ValueError:
            wrong.append(name)
    state = params.get("state") or None
    if state is not None and state not in STATES:
        wrong.append("state")
    if wrong:
        return ", ".join(wrong)
    return Search(reference=params.get("reference") or None, state=state, **values)


def results(
    search: Search, payments: Iterable[GatewayPayment]
) -> tuple[list[GatewayPayment], int, int]:
    """The page's payments, how many match in all, and the last page's number. One pass over
    every payment, then a sort of the matches (newest first; ties by id, so pages never
    overlap)."""
    found = [payment for payment in payments if search.matches(payment)]
    found.sort(key=lambda payment: (payment.created_at, payment.payment_id), reverse=True)
    last = max(1, -(-len(found) // search.display_size))
    start = (search.page - 1) * search.display_size
    return found[start : start + search.display_size], len(found), last


def links(search: Search, base: str, last: int) -> dict[str, Any]:
    def link(page: int) -> dict[str, str]:
        return {"href": search.href(base, page)}

    return {
        "self": link(search.page),
        "first_page": link(1),
        "last_page": link(last),
        "prev_page": link(search.page - 1) if search.page > 1 else None,
        "next_page": link(search.page + 1) if search.page < last else None,
    }
