"""Numeric bands the amount, ticket and tenor facets group by (need and product search)."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_


@dataclass(frozen=True)
class Band:
    """A half-open range [low, high) of a number; None means unbounded."""

    key: str
    low: int | None
    high: int | None

    def condition(self, column) -> ColumnElement[bool]:
        parts = [column >= self.low] if self.low is not None else []
        parts += [column < self.high] if self.high is not None else []
        return and_(*parts)


AMOUNT_BANDS = (
    Band("lt10m", None, 10_000_000),
    Band("10m-50m", 10_000_000, 50_000_000),
    Band("50m-200m", 50_000_000, 200_000_000),
    Band("200m-1b", 200_000_000, 1_000_000_000),
    Band("gt1b", 1_000_000_000, None),
)
TENOR_BANDS = (
    Band("le5", None, 6),
    Band("6-10", 6, 11),
    Band("11-15", 11, 16),
    Band("gt15", 16, None),
)
