"""The fee schedule the admin sets: one amount per kind of fee and currency."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import FeeKind, Role, User
from marketplace.models.payment import Fee
from marketplace.payments.money import exponent
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record

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


def amount_due(kind: FeeKind, currency: str | None) -> tuple[str, Decimal]:
    """The currency and amount to charge; USD or the first currency set when none is chosen."""
    amounts = fee_schedule()[kind]
    currency = (currency or default_currency(amounts) or "").upper()
    if not amounts:
        raise ServiceError(
            _l("No amount is set for this fee yet. An administrator sets it in the fee schedule."),
            409,
        )
    if currency not in amounts:
        raise ServiceError(_l("This fee cannot be paid in %(currency)s.", currency=currency))
    return currency, amounts[currency]


@transactional
def set_fee(kind: FeeKind, currency: str, amount: Decimal, actor: User) -> Fee:
    """Set the amount of one fee in one currency (admins only)."""
    if actor.role != Role.ADMIN:
        raise ServiceError(_l("Only administrators set fees."), 403)
    if amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-exponent(currency))):
        raise ServiceError(
            _l("Give an amount above zero with no more decimals than the currency has.")
        )
    fee = find_fee(kind, currency)
    old = fee.amount if fee else None
    if fee is None:
        fee = Fee(kind=kind, currency=currency.upper(), amount=amount)
        db.session.add(fee)
    fee.amount, fee.updated_by_id = amount, actor.id
    record(
        "fee.set",
        actor=actor,
        target=None,
        kind=str(kind),
        currency=currency.upper(),
        old=str(old) if old is not None else None,
        new=str(amount),
    )
    db.session.commit()
    return fee


@transactional
def ensure_default_fees() -> int:
    """Add the platform's default fees (USD and HKD) where none is set; returns how many."""
    schedule = fee_schedule()
    missing = [key for key in DEFAULT_FEES if key[1] not in schedule[key[0]]]
    for kind, currency in missing:
        db.session.add(Fee(kind=kind, currency=currency, amount=DEFAULT_FEES[kind, currency]))
    db.session.commit()
    return len(missing)
