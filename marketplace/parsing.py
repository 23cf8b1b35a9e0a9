"""One way to read numbers, choices and page numbers from query strings and form text.

Every reader returns a clean value or the given default: non-finite numbers (NaN, Infinity),
values out of range, malformed text and overlong input never reach a query or a computation.
Pure functions: no Flask, no database.
"""

from __future__ import annotations

import math
from collections.abc import Container
from decimal import Decimal, InvalidOperation

MAX_RECORD_ID = 2**31 - 1  # the largest id an INTEGER primary key holds
MAX_PAGE = 10_000  # deeper pages are refused: narrow the search instead
_MAX_NUMBER_TEXT = 40  # longer "numbers" are not numbers anyone types


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text if 0 < len(text) <= _MAX_NUMBER_TEXT else None


def query_int(value, *, minimum: int, maximum: int, default: int | None = None) -> int | None:
    """A whole number within [minimum, maximum], else the default."""
    text = _text(value)
    if text is None or not text.lstrip("+-").isdecimal() or not text.isascii():
        return default
    number = int(text)
    return number if minimum <= number <= maximum else default


def query_float(
    value, *, minimum: float, maximum: float, default: float | None = None
) -> float | None:
    """A finite number within [minimum, maximum], else the default."""
    text = _text(value)
    try:
        number = float(text) if text is not None else None
    except ValueError:
        return default
    if number is None or not math.isfinite(number) or not minimum <= number <= maximum:
        return default
    return number


def query_decimal(
    value, *, minimum: Decimal, maximum: Decimal, default: Decimal | None = None
) -> Decimal | None:
    """A finite Decimal within [minimum, maximum], else the default."""
    text = _text(value)
    try:
        number = Decimal(text) if text is not None else None
    except InvalidOperation:
        return default
    if number is None or not number.is_finite() or not minimum <= number <= maximum:
        return default
    return number


def query_choice(value, allowed: Container[str], default: str | None = None) -> str | None:
    """One of the allowed keys, else the default."""
    return value if isinstance(value, str) and value in allowed else default


def page_number(value) -> int:
    """A page from 1 to MAX_PAGE; anything else means page 1."""
    return query_int(value, minimum=1, maximum=MAX_PAGE, default=1)
