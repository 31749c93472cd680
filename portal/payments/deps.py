"""What payments give the features below them, as Litestar dependencies (portal/app.py
registers them): applications list the fees paid without importing payments."""

from __future__ import annotations

from litestar.di import Provide

from portal.applications.routes import PaidFees
from portal.payments.service import paid_fees


def provide_paid_fees() -> PaidFees:
    return paid_fees


DEPENDENCIES = {"paid_fees": Provide(provide_paid_fees, sync_to_thread=False, use_cache=True)}
