"""Stage 0: the rows of a table that may be good matches or near misses for a query, from the
table's packed bitmaps (bitmaps.py), before any row is scored.

A million-row table is scored only where the mandate allows. ANDing a dozen 125 kB bitmaps
(the hard terms, and "surely misses more than near_miss_limit soft terms" by bit-sliced
counting) and unpacking the result costs about a millisecond where scoring every row cost
tens. Buckets are coarser than the exact terms, so the rows returned are a superset of the rows
that pass; screen.py then grades them exactly (test_match_screen.py checks that pruning never
drops an eligible row).
"""

from __future__ import annotations

from functools import reduce

import numpy as np

from .bitmaps import TableBits, bits_at, scale_of, table_bits
from .candidates import RuleConfig


def _any(bitmaps: list[np.ndarray], size: int) -> np.ndarray:
    return reduce(np.bitwise_or, bitmaps) if bitmaps else np.zeros((size + 7) // 8, np.uint8)


def _scalar(side, name: str) -> float:
    return float(side.numbers[name])


def _bucket(value: float, name: str) -> int:
    """The bucket of one value of a column (see bitmaps.scale_of)."""
    return int(scale_of(name)[0]([value])[0])


def _held_or_open(bits: TableBits, query, name: str, *blank: str) -> np.ndarray:
    """Rows holding one of the query's tokens of a field, or with the `blank` fields empty."""
    held = [bits.token(name, int(t)) for t in query.token_ids[name]]
    if name == "country":  # a region of the query counts as well
        held += [bits.token("region", int(t)) for t in query.token_ids["region"]]
    return _any([*held, bits.blank(*(blank or (name,)))], bits.size)


def _range_holds(bits: TableBits, low: tuple, high: tuple, value: float) -> list[np.ndarray]:
    """Rows whose range [low, high] may hold `value` (the bounds: column, factor, shift)."""
    if np.isnan(value):
        return []
    bucket = _bucket(value, low[0])
    return [bits.cumulative(*low).at_most[bucket], bits.cumulative(*high).at_least[bucket]]


def _value_within(bits: TableBits, name: str, low: float, high: float) -> list[np.ndarray]:
    """Rows whose value of a column may lie in [low, high] (an unknown bound: no limit)."""
    values = bits.cumulative(name)
    found = [] if np.isnan(low) else [values.at_least[_bucket(low, name)]]
    return found if np.isnan(high) else [*found, values.at_most[_bucket(high, name)]]


def _both(bitmaps: list[np.ndarray]) -> list[np.ndarray]:
    """The AND of some bitmaps as one entry (none when there are none)."""
    return [reduce(np.bitwise_and, bitmaps)] if bitmaps else []


def _nothing(size: int) -> list[np.ndarray]:
    return [np.zeros((size + 7) // 8, np.uint8)]


def _need_to_products(bits: TableBits, query, config: RuleConfig) -> list[np.ndarray]:
    """Bitmaps of the products that may pass the need's hard terms."""
    need, years = query.side, config.tenor_tolerance
    if _scalar(need, "currency_ok") <= 0:  # an amount in a currency no rate converts
        return _nothing(bits.size)
    found = [bits.positive("currency_ok")]
    if need.counts["country"]:
        found.append(_held_or_open(bits, query, "country", "country", "region"))
    if need.counts["sector"]:
        found.append(_held_or_open(bits, query, "sector"))
    low, high = (
        ("ticket_min", 1 - config.ticket_tolerance),
        ("ticket_max", 1 + config.ticket_tolerance),
    )
    found += _range_holds(bits, low, high, _scalar(need, "amount_usd"))
    low, high = ("tenor_min", 1.0, -years), ("tenor_max", 1.0, years)
    return found + _range_holds(bits, low, high, _scalar(need, "tenor"))


def _product_to_needs(bits: TableBits, query, config: RuleConfig) -> list[np.ndarray]:
    """Bitmaps of the needs that may pass the product's hard terms."""
    product, years = query.side, config.tenor_tolerance
    if _scalar(product, "currency_ok") <= 0:
        return _nothing(bits.size)
    found = [bits.positive("currency_ok")]
    if product.counts["country"] or product.counts["region"]:
        found.append(_held_or_open(bits, query, "country"))
    if product.counts["sector"]:
        found.append(_held_or_open(bits, query, "sector"))
    low = _scalar(product, "ticket_min") * (1 - config.ticket_tolerance)
    high = _scalar(product, "ticket_max") * (1 + config.ticket_tolerance)
    found += _value_within(bits, "amount_usd", low, high)
    shortest, longest = _scalar(product, "tenor_min"), _scalar(product, "tenor_max")
    return found + _value_within(bits, "tenor", shortest - years, longest + years)


def _need_soft_misses(bits: TableBits, query) -> list[np.ndarray]:
    """Per soft term of the need's side, the products that surely miss it (a subset of those
    that do: numeric terms are read through buckets)."""
    need, ids = query.side, query.token_ids
    met = _both(_range_holds(bits, ("ticket_min",), ("ticket_max",), _scalar(need, "amount_usd")))
    met += _both(_range_holds(bits, ("tenor_min",), ("tenor_max",), _scalar(need, "tenor")))
    met += [
        _held_or_open(bits, query, name) for name in ("instrument", "stage") if need.counts[name]
    ]
    tco2e = _scalar(need, "tco2e")
    if not np.isnan(tco2e):
        met.append(bits.cumulative("min_tco2e").at_most[_bucket(tco2e, "min_tco2e")])
    misses = [~bitmap for bitmap in met]
    lacking = set(range(bits.table.tokens["taxonomy"].shape[1])) - set(ids["taxonomy"].tolist())
    required = [bits.token("taxonomy", t) for t in sorted(lacking)]
    if required:  # a product requiring anything the need lacks misses the taxonomy term
        misses.append(_any(required, bits.size))
    return misses


def _product_soft_misses(bits: TableBits, query) -> list[np.ndarray]:
    """Per soft term of the product's side, the needs that surely miss it."""
    product, ids = query.side, query.token_ids
    numbers = (("ticket_min", "ticket_max", "amount_usd"), ("tenor_min", "tenor_max", "tenor"))
    met = []
    for low, high, name in numbers:
        met += _both(_value_within(bits, name, _scalar(product, low), _scalar(product, high)))
    met += [
        _held_or_open(bits, query, name) for name in ("instrument", "stage") if product.counts[name]
    ]
    least = _scalar(product, "min_tco2e")
    if not np.isnan(least):
        met.append(bits.cumulative("tco2e").at_least[_bucket(least, "tco2e")])
    misses = [~bitmap for bitmap in met]
    if product.counts["taxonomy"] > len(ids["taxonomy"]):  # requires what no need can claim
        misses.append(~_nothing(bits.size)[0])
    elif product.counts["taxonomy"]:
        misses.append(_any([~bits.token("taxonomy", int(t)) for t in ids["taxonomy"]], bits.size))
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
    set_bits = np.flatnonzero(np.unpackbits(mask[busy], bitorder="little"))
    return busy[set_bits >> 3] * 8 + (set_bits & 7)


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
