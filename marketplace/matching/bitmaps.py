"""Packed bitmaps of a table's rows, per token and per bucket of each numeric column: what
stage 0 (prune.py) ANDs to find the rows a query may match without reading them.

Tokens: the rows whose field holds the token (products whose mandate names Kazakhstan, needs in
wind…). Numbers: per bucket b, the rows whose bucket is at most b and those at least b
(quarter decades for USD amounts and tCO2e, whole years for tenors); buckets are non-decreasing
in the value, so a bucket comparison never rules out a row the exact comparison keeps.
"""

from __future__ import annotations

import numpy as np

AMOUNT_STEPS_PER_DECADE = 4
AMOUNT_BUCKETS = 48  # USD 100 … 10^14 in quarter decades; outside, the first or last bucket
AMOUNT_FLOOR_LOG10 = 2
TENOR_BUCKETS = 41  # whole years 0 … 40; beyond, the last one
HALVES = ("at_most", "at_least")


def amount_buckets(values) -> np.ndarray:
    """Bucket of each USD amount (-1 when unknown); non-decreasing in the amount."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.floor((np.log10(values) - AMOUNT_FLOOR_LOG10) * AMOUNT_STEPS_PER_DECADE)
    steps = np.clip(np.nan_to_num(steps, nan=0.0, neginf=0.0), 0, AMOUNT_BUCKETS - 1)
    return np.where(np.isnan(values), -1, steps).astype(np.int16)


def tenor_buckets(values) -> np.ndarray:
    """Bucket of each tenor in years (-1 when unknown); non-decreasing in the tenor."""
    values = np.asarray(values, dtype=np.float64)
    steps = np.clip(np.nan_to_num(np.floor(values), nan=0.0), 0, TENOR_BUCKETS - 1)
    return np.where(np.isnan(values), -1, steps).astype(np.int16)


def scale_of(name: str):
    """The bucket function of a column and how many buckets it has: tenors in whole years, the
    rest (USD amounts, tCO2e) on a log scale."""
    if name.startswith("tenor"):
        return tenor_buckets, TENOR_BUCKETS
    return amount_buckets, AMOUNT_BUCKETS


def pack(flags: np.ndarray) -> np.ndarray:
    """One bit per row."""
    return np.packbits(flags, bitorder="little")


def bits_at(bitmap: np.ndarray, byte: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The bits of some rows (given as row >> 3 and row & 7), as uint8 0/1."""
    return (bitmap[byte] >> shift) & 1


class Cumulative:
    """For one numeric column: per bucket b, the rows whose bucket is ≤ b (`at_most`), and those
    ≥ b (`at_least`); rows with an unknown value are in all of them (an unknown passes every
    numeric term). Each half is built when first read."""

    def __init__(self, buckets: np.ndarray, count: int):
        self.buckets, self.count = buckets, count
        self._at_most: np.ndarray | None = None
        self._at_least: np.ndarray | None = None

    @property
    def at_most(self) -> np.ndarray:
        if self._at_most is None:
            unknown = self.buckets < 0
            self._at_most = np.stack(
                [pack(unknown | (self.buckets <= b)) for b in range(self.count)]
            )
        return self._at_most

    @property
    def at_least(self) -> np.ndarray:
        if self._at_least is None:
            unknown = self.buckets < 0
            self._at_least = np.stack(
                [pack(unknown | (self.buckets >= b)) for b in range(self.count)]
            )
        return self._at_least


class TableBits:
    """Bitmaps of one table, built on first use and kept with the table."""

    def __init__(self, table):
        self.table, self.size = table, len(table)
        self.tokens: dict[tuple[str, int], np.ndarray] = {}
        self.numbers: dict[tuple, Cumulative] = {}
        self._columns: dict[str, object] = {}

    def prepare(self) -> None:
        """Build now every bitmap queries read under any configuration (those of the ticket and
        tenor tolerances are built on the first query of a configuration)."""
        for name in self.table.tokens:
            for token in range(self.table.tokens[name].shape[1]):
                self.token(name, token)
        self._columns.clear()
        for name in ("country", "sector", "instrument", "stage"):
            self.blank(name)
        self.blank("country", "region")
        self.positive("currency_ok")
        numbers = self.table.side.numbers
        if "ticket_min" in numbers:  # products
            reads = [
                ("ticket_min", "at_most"),
                ("ticket_max", "at_least"),
                ("tenor_min", "at_most"),
                ("tenor_max", "at_least"),
                ("min_tco2e", "at_most"),
            ]
        else:
            reads = [(name, half) for name in ("amount_usd", "tenor") for half in HALVES]
            reads.append(("tco2e", "at_least"))
        for name, half in reads:
            getattr(self.cumulative(name), half)

    def token(self, name: str, token: int) -> np.ndarray:
        """Rows holding the token in the field."""
        key = (name, token)
        if key not in self.tokens:
            columns = self._columns.get(name)
            if columns is None:
                columns = self._columns[name] = self.table.tokens[name].tocsc()
            flags = np.zeros(self.size, dtype=bool)
            if token < columns.shape[1]:
                flags[columns.indices[columns.indptr[token] : columns.indptr[token + 1]]] = True
            self.tokens[key] = pack(flags)
        return self.tokens[key]

    def blank(self, *names: str) -> np.ndarray:
        """Rows with none of the fields filled in."""
        key = ("blank", names)
        if key not in self.tokens:
            counts = self.table.side.counts
            self.tokens[key] = pack(np.logical_and.reduce([counts[n] == 0 for n in names]))
        return self.tokens[key]

    def positive(self, name: str) -> np.ndarray:
        key = ("positive", name)
        if key not in self.tokens:
            self.tokens[key] = pack(self.table.side.numbers[name] > 0)
        return self.tokens[key]

    def cumulative(self, name: str, factor: float = 1.0, shift: float = 0.0) -> Cumulative:
        """Cumulative bitmaps of a numeric column times factor plus shift (tenors are in
        years, every other column in USD)."""
        key = (name, factor, shift)
        if key not in self.numbers:
            buckets, count = scale_of(name)
            values = self.table.side.numbers[name] * factor + shift
            self.numbers[key] = Cumulative(buckets(values), count)
        return self.numbers[key]


def table_bits(table) -> TableBits:
    """The table's bitmaps, kept with it."""
    return table.cached("bits", lambda: TableBits(table))
