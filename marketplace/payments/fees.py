"""The fee schedule the admin sets: one amount per kind of fee and currency."""
from decimal import Decimal

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import FeeKind
from marketplace.models.payment import Fee

# The platform's own starting prices; an admin changes them in the fee schedule.
DEFAULT_FEES = {
    (FeeKind.LISTING_FEE, "USD"): Decimal("500"),
    (FeeKind.LISTING_FEE, "HKD"): Decimal("3900"),
    (FeeKind.MEMBERSHIP_MONTHLY, "USD"): Decimal("300"),
    (FeeKind.MEMBERSHIP_MONTHLY, "HKD"): Decimal("2350"),
    (FeeKind.MEMBERSHIP_YEARLY, "USD"): Decimal("3000"),
    (FeeKind.MEMBERSHIP_YEARLY, "HKD"): Decimal("23500"),
}
INTERVAL_FEES = {"month": FeeKind.MEMBERSHIP_MONTHLY, "year": FeeKind.MEMBERSHIP_YEARLY}


def fee_schedule() -> dict[FeeKind, dict[str, Decimal]]:
    """Every fee set: kind -> currency -> amount."""
    schedule: dict[FeeKind, dict[str, Decimal]] = {kind: {} for kind in FeeKind}
    for fee in db.session.scalars(select(Fee).order_by(Fee.kind, Fee.currency)):
        schedule[fee.kind][fee.currency] = fee.amount
    return schedule


def default_currency(amounts: dict[str, Decimal]) -> str | None:
    """USD when the fee is set in USD, else the first currency it is set in."""
    if "USD" in amounts or not amounts:
        return "USD" if amounts else None
    return next(iter(amounts))


def find_fee(kind: FeeKind, currency: str) -> Fee | None:
    return db.session.scalar(select(Fee).where(Fee.kind == kind, Fee.currency == currency.upper()))
