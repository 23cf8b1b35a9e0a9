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

from .bitmaps import TableBits, amount_buckets, bits_at, pack, table_bits, tenor_buckets
from .candidates import RuleConfig


def _any(bitmaps: list[np.ndarray], size: int) -> np.ndarray:
    return reduce(np.bitwise_or, bitmaps) if bitmaps else np.zeros((size + 7) // 8, np.uint8)


def _scalar(side, name: str) -> float:
    return float(side.numbers[name])


def _need_to_products(bits: TableBits, query, config: RuleConfig) -> list[np.ndarray]:
    """Bitmaps of the products that may pass the need's hard terms."""
    need = query.side
    size, ids = bits.size, query.token_ids
    if _scalar(need, "currency_ok") <= 0:  # an amount in a currency no rate converts
        return [np.zeros((size + 7) // 8, np.uint8)]
    found = [bits.positive("currency_ok")]
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
