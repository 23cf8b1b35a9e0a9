"""Amounts: Decimal inside the app; integer minor units and lower-case currencies for Stripe."""

from decimal import Decimal

# Stripe charges these in whole units (no cents); every other supported currency has two decimals,
# apart from the three-decimal ones below.
ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def stripe_currency(currency: str) -> str:
    """The ISO code as Stripe wants it: lower case."""
    return currency.strip().lower()


def exponent(currency: str) -> int:
    """How many decimal places one unit of the currency has at Stripe."""
    code = stripe_currency(currency)
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal units to Stripe's integer minor units; refuses amounts that would need rounding."""
    scaled = Decimal(amount).scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than the currency allows")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """Stripe's integer minor units back to a Decimal amount."""
    places = exponent(currency)
    return Decimal(int(minor)).scaleb(-places).quantize(Decimal(1).scaleb(-places))
