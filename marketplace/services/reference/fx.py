"""Currency conversion to USD from the admin-maintained FX table."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import FxRate, User, utcnow
from marketplace.services import ServiceError
from marketplace.services.accounts.audit import record

CENT = Decimal("0.01")


def latest_rate(currency: str) -> FxRate | None:
    """The newest rate for a currency (by its as-of date, then by entry)."""
    return db.session.scalar(
        select(FxRate)
        .where(FxRate.currency == currency.upper())
        .order_by(FxRate.as_of.desc(), FxRate.id.desc())
        .limit(1)
    )


def to_usd(amount: Decimal, currency: str) -> tuple[Decimal, FxRate | None]:
    """The USD equivalent and the rate used; USD converts to itself without a rate."""
    if currency.upper() == "USD":
        return amount.quantize(CENT, ROUND_HALF_UP), None
    rate = latest_rate(currency)
    if rate is None:
        raise ServiceError(_l("There is no exchange rate for %(currency)s yet.", currency=currency))
    return (amount * rate.usd_per_unit).quantize(CENT, ROUND_HALF_UP), rate


def usd_rates() -> dict[str, float]:
    """USD per unit for every currency with a rate, for the ranker (which works in floats)."""
    rates = {"USD": 1.0}
    for rate in db.session.scalars(select(FxRate).order_by(FxRate.as_of, FxRate.id)):
        rates[rate.currency] = float(rate.usd_per_unit)
    return rates


def add_rate(
    currency: str, usd_per_unit: Decimal, as_of: date, source: str, actor: User | None
) -> FxRate:
    """Record a new rate; listings saved from now on use it."""
    if not usd_per_unit.is_finite() or usd_per_unit <= 0:
        raise ServiceError(_l("The rate must be greater than zero."))
    # The newest rate wins, so a rate dated ahead would silently replace every later one. Asia's
    # calendar runs up to a day ahead of UTC: allow tomorrow (UTC), nothing later.
    if as_of > utcnow().date() + timedelta(days=1):
        raise ServiceError(_l("The rate date cannot be in the future."))
    rate = FxRate(
        currency=currency.upper(),
        usd_per_unit=usd_per_unit,
        as_of=as_of,
        source=source,
        entered_by_id=getattr(actor, "id", None),
    )
    db.session.add(rate)
    record(
        "fx.rate_added",
        actor=actor,
        target=None,
        currency=currency,
        usd_per_unit=str(usd_per_unit),
        as_of=as_of.isoformat(),
    )
    db.session.commit()
    return rate
