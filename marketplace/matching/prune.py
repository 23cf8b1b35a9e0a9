"""Stage 0: the rows of a table that may pass the hard terms, from packed bitmaps, before any
row is scored.

A million-row table is scored only where the mandate allows: one bitmap per token (the products
whose mandate names Kazakhstan, the needs in wind…) and, for the numeric terms, cumulative
bitmaps over buckets (rows whose amount bucket is at most b, at least b). ANDing a handful of
125 kB bitmaps and unpacking the result costs about a millisecond where scoring every row cost
tens. Buckets are coarser than the exact terms, so the rows returned are a superset of the rows
that pass; screen.py then grades them exactly (test_match_screen.py checks that pruning never
drops an eligible row).
"""

from __future__ import annotations

from functools import reduce

import numpy as np

from .candidates import RuleConfig
from .screen import MAX_REQUIRED, rule_tables

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

    def prepare(self, config: RuleConfig) -> None:
        """Build every bitmap the queries of both directions read under `config` now, so that
        no query pays for building one."""
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
            tolerance, years = config.ticket_tolerance, config.tenor_tolerance
            reads = [
                ("ticket_min", 1 - tolerance, 0.0, "at_most"),
                ("ticket_max", 1 + tolerance, 0.0, "at_least"),
                ("tenor_min", 1.0, -years, "at_most"),
                ("tenor_max", 1.0, years, "at_least"),
                ("ticket_min", 1.0, 0.0, "at_most"),
                ("ticket_max", 1.0, 0.0, "at_least"),
                ("tenor_min", 1.0, 0.0, "at_most"),
                ("tenor_max", 1.0, 0.0, "at_least"),
                ("min_tco2e", 1.0, 0.0, "at_most"),
            ]
        else:
            reads = [(n, 1.0, 0.0, half) for n in ("amount_usd", "tenor") for half in HALVES]
            reads.append(("tco2e", 1.0, 0.0, "at_least"))
        for name, factor, shift, half in reads:
            getattr(self.cumulative(name, factor, shift), half)
        rule_tables(MAX_REQUIRED, config.near_miss_limit)  # stage 1's lookup table

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
            values = self.table.side.numbers[name] * factor + shift
            if name.startswith("tenor"):  # years; the rest (USD, tCO2e) on a log scale
                self.numbers[key] = Cumulative(tenor_buckets(values), TENOR_BUCKETS)
            else:
                self.numbers[key] = Cumulative(amount_buckets(values), AMOUNT_BUCKETS)
        return self.numbers[key]


def table_bits(table) -> TableBits:
    """The table's bitmaps, kept with it."""
    return table.cached("bits", lambda: TableBits(table))


def _any(bitmaps: list[np.ndarray], size: int) -> np.ndarray:
    return reduce(np.bitwise_or, bitmaps) if bitmaps else np.zeros((size + 7) // 8, np.uint8)


def _scalar(side, name: str) -> float:
    return float(side.numbers[name])


def _need_to_products(bits: TableBits, query, config: RuleConfig) -> list[np.ndarray]:
    """Bitmaps of the products that may pass the need's hard terms."""
    need = query.side
    size, ids = bits.size, query.token_ids
    found = [bits.positive("currency_ok")] if _scalar(need, "currency_ok") > 0 else None
    if found is None:
        return [np.zeros((size + 7) // 8, np.uint8)]
    if need.counts["country"]:
        places = [bits.token("country", int(t)) for t in ids["country"]]
        places += [bits.token("region", int(t)) for t in ids["region"]]
        found.append(_any([*places, bits.blank("country", "region")], size))
    if need.counts["sector"]:
        sectors = [bits.token("sector", int(t)) for t in ids["sector"]]
        found.append(_any([*sectors, bits.blank("sector")], size))
    amount, tolerance = _scalar(need, "amount_usd"), config.ticket_tolerance
    if not np.isnan(amount):
        bucket = int(amount_buckets([amount])[0])
        found.append(bits.cumulative("ticket_min", 1 - tolerance).at_most[bucket])
        found.append(bits.cumulative("ticket_max", 1 + tolerance).at_least[bucket])
    tenor, years = _scalar(need, "tenor"), config.tenor_tolerance
    if not np.isnan(tenor):
        bucket = int(tenor_buckets([tenor])[0])
        found.append(bits.cumulative("tenor_min", shift=-years).at_most[bucket])
        found.append(bits.cumulative("tenor_max", shift=years).at_least[bucket])
    return found


def _product_to_needs(bits: TableBits, query, config: RuleConfig) -> list[np.ndarray]:
    """Bitmaps of the needs that may pass the product's hard terms."""
    product = query.side
    size, ids = bits.size, query.token_ids
    if _scalar(product, "currency_ok") <= 0:
        return [np.zeros((size + 7) // 8, np.uint8)]
    found = [bits.positive("currency_ok")]
    if product.counts["country"] or product.counts["region"]:
        places = [bits.token("country", int(t)) for t in ids["country"]]
        places += [bits.token("region", int(t)) for t in ids["region"]]
        found.append(_any([*places, bits.blank("country")], size))
    if product.counts["sector"]:
        sectors = [bits.token("sector", int(t)) for t in ids["sector"]]
        found.append(_any([*sectors, bits.blank("sector")], size))
    low = _scalar(product, "ticket_min") * (1 - config.ticket_tolerance)
    high = _scalar(product, "ticket_max") * (1 + config.ticket_tolerance)
    amounts = bits.cumulative("amount_usd")
    if not np.isnan(low):
        found.append(amounts.at_least[int(amount_buckets([low])[0])])
    if not np.isnan(high):
        found.append(amounts.at_most[int(amount_buckets([high])[0])])
    years = config.tenor_tolerance
    tenors = bits.cumulative("tenor")
    shortest, longest = _scalar(product, "tenor_min"), _scalar(product, "tenor_max")
    if not np.isnan(shortest):
        found.append(tenors.at_least[int(tenor_buckets([shortest - years])[0])])
    if not np.isnan(longest):
        found.append(tenors.at_most[int(tenor_buckets([longest + years])[0])])
    return found


def _ones(size: int) -> np.ndarray:
    return pack(np.ones(size, dtype=bool))


def _need_soft_misses(bits: TableBits, query) -> list[np.ndarray]:
    """Per soft term of the need's side, the products that surely miss it (a subset of those
    that do: numeric terms are read through buckets)."""
    need, ids, size = query.side, query.token_ids, bits.size
    met = []
    amount = _scalar(need, "amount_usd")
    if not np.isnan(amount):
        bucket = int(amount_buckets([amount])[0])
        met.append(bits.cumulative("ticket_min").at_most[bucket])
        met[-1] = met[-1] & bits.cumulative("ticket_max").at_least[bucket]
    tenor = _scalar(need, "tenor")
    if not np.isnan(tenor):
        bucket = int(tenor_buckets([tenor])[0])
        met.append(bits.cumulative("tenor_min").at_most[bucket])
        met[-1] = met[-1] & bits.cumulative("tenor_max").at_least[bucket]
    for name in ("instrument", "stage"):
        if need.counts[name]:
            held = [bits.token(name, int(t)) for t in ids[name]]
            met.append(_any([*held, bits.blank(name)], size))
    tco2e = _scalar(need, "tco2e")
    if not np.isnan(tco2e):
        met.append(bits.cumulative("min_tco2e").at_most[int(amount_buckets([tco2e])[0])])
    misses = [~bitmap for bitmap in met]
    lacking = set(range(bits.table.tokens["taxonomy"].shape[1])) - set(ids["taxonomy"].tolist())
    required = [bits.token("taxonomy", t) for t in sorted(lacking)]
    if required:  # a product requiring anything the need lacks misses the taxonomy term
        misses.append(_any(required, size))
    return misses


def _product_soft_misses(bits: TableBits, query) -> list[np.ndarray]:
    """Per soft term of the product's side, the needs that surely miss it."""
    product, ids, size = query.side, query.token_ids, bits.size
    met = []
    amounts = bits.cumulative("amount_usd")
    low, high = _scalar(product, "ticket_min"), _scalar(product, "ticket_max")
    if not np.isnan(low):
        met.append(amounts.at_least[int(amount_buckets([low])[0])])
    if not np.isnan(high):
        met.append(amounts.at_most[int(amount_buckets([high])[0])])
    if len(met) == 2:
        met = [met[0] & met[1]]
    tenors = bits.cumulative("tenor")
    shortest, longest = _scalar(product, "tenor_min"), _scalar(product, "tenor_max")
    tenor = [tenors.at_least[int(tenor_buckets([shortest])[0])]] if not np.isnan(shortest) else []
    if not np.isnan(longest):
        tenor.append(tenors.at_most[int(tenor_buckets([longest])[0])])
    if tenor:
        met.append(reduce(np.bitwise_and, tenor))
    for name in ("instrument", "stage"):
        if product.counts[name]:
            held = [bits.token(name, int(t)) for t in ids[name]]
            met.append(_any([*held, bits.blank(name)], size))
    least = _scalar(product, "min_tco2e")
    if not np.isnan(least):
        met.append(bits.cumulative("tco2e").at_least[int(amount_buckets([least])[0])])
    misses = [~bitmap for bitmap in met]
    if product.counts["taxonomy"] > len(ids["taxonomy"]):  # requires what no need can claim
        misses.append(_ones(size))
    elif product.counts["taxonomy"]:
        misses.append(_any([~bits.token("taxonomy", int(t)) for t in ids["taxonomy"]], size))
    return misses


def _too_many(misses: list[np.ndarray], limit: int) -> np.ndarray | None:
    """Rows that surely miss more than `limit` soft terms (bit-sliced counting up to 2)."""
    if limit > 1 or not misses:
        return None
    ones = np.zeros_like(misses[0])
    twos = np.zeros_like(misses[0])
    for missed in misses:
        twos |= ones & missed
        ones |= missed
    return twos if limit == 1 else ones


def candidates(table, query, config: RuleConfig, need_is_query: bool) -> np.ndarray:
    """Rows of the table (ascending) that may be good or near misses for the query: every row
    that is, and some that are not (screen.py grades them exactly)."""
    bits = table_bits(table)
    found = (_need_to_products if need_is_query else _product_to_needs)(bits, query, config)
    misses = (_need_soft_misses if need_is_query else _product_soft_misses)(bits, query)
    excluded = _too_many(misses, config.near_miss_limit)
    if excluded is not None:
        found.append(~excluded)
    mask = reduce(np.bitwise_and, found)
    # Unpack only the bytes with a bit set: far fewer than the table's rows / 8 when few pass.
    busy = np.flatnonzero(mask)
    bits = np.flatnonzero(np.unpackbits(mask[busy], bitorder="little"))
    return busy[bits >> 3] * 8 + (bits & 7)


def hits(table, token_ids: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per field and row: how many of the query's tokens the row holds (uint8)."""
    bits = table_bits(table)
    byte, shift = rows >> 3, (rows & 7).astype(np.uint8)
    out = {}
    for name, ids in token_ids.items():
        count = np.zeros(rows.size, dtype=np.uint8)
        for token in np.unique(ids):
            count += bits_at(bits.token(name, int(token)), byte, shift)
        out[name] = count
    return out
