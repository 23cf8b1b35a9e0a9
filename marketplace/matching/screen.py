"""Stage 1 over the candidate rows of a table: each row's constraint flags packed into a code,
scores looked up.

Graded fits take a handful of values, so whether a pair is a candidate and its rule score depend
only on a small integer code: flags of the need side, of the product side, and the taxonomy
(hits, required) pair. Packing bytes and one lookup over 10^6 rows takes a few milliseconds where
pair-wise rule_parts made dozens of float64 temporaries. The lookup table is graded by the same
functions as rule_parts, so the scores are identical (test_match_screen.py checks this).
"""

from __future__ import annotations

from functools import lru_cache, reduce

import numpy as np

from .candidates import (
    CONSTRAINTS,
    EXCLUDED,
    GOOD,
    NEAR_MISS,
    Pair,
    RuleConfig,
    graded_fits,
    rule_parts,
    rule_score,
    share_met,
    side_scores,
    stage_one,
    tier_of,
)
from .index import Side

# Bit order of the code's low 14 bits; the taxonomy (required, hits) pair sits above them.
NEED_BITS = ("currency", "tenor", "instrument", "ticket", "ticket_exact", "tenor_near")
PRODUCT_BITS = (
    *("country", "region_hit", "country_hit"),
    *("sector", "sector_hit", "technology_hit"),
    *("stage", "impact"),
)
FLAG_BITS = len(NEED_BITS) + len(PRODUCT_BITS)
MAX_REQUIRED = 7  # taxonomy requirements the lookup covers; beyond, stage 1 goes pair-wise


@lru_cache(maxsize=16)
def rule_tables(max_required: int, near_miss_limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Rule score and tier of every code, graded as rule_parts grades a pair."""
    width = max_required + 1
    code = np.arange((1 << FLAG_BITS) * width * width)
    bit = {name: (code >> i) & 1 > 0 for i, name in enumerate(NEED_BITS + PRODUCT_BITS)}
    required, hits = np.divmod(code >> FLAG_BITS, width)
    met = {name: bit.get(name, hits >= required) for name in CONSTRAINTS}
    hit = {name: bit[f"{name}_hit"] for name in ("country", "region", "sector", "technology")}
    graded = graded_fits(met, bit["ticket_exact"], hit, share_met(hits, required))
    tier = tier_of(met, bit["ticket_exact"], bit["tenor_near"], near_miss_limit)
    return rule_score(*side_scores(graded), tier == EXCLUDED), tier


class _Columns:
    """Derived columns of one side (the query's scalars, or the candidate rows' columns)."""

    def __init__(self, side: Side):
        self.side = side

    def blank(self, name: str) -> np.ndarray:
        return self.side.counts[name] == 0

    def positive(self, name: str) -> np.ndarray:
        return self.side.numbers[name] > 0

    def required(self) -> np.ndarray:
        return self.side.counts["taxonomy"].astype(np.uint8)

    def max_required(self) -> int:
        return int(np.max(self.side.counts["taxonomy"], initial=0))

    def scaled(self, name: str, factor: float) -> np.ndarray:
        return self.side.numbers[name] * factor

    def shifted(self, name: str, delta: float) -> np.ndarray:
        return self.side.numbers[name] + delta


def _hit(hits: np.ndarray) -> np.ndarray:
    return hits if hits.dtype == bool else hits > 0


def _fold(parts, size: int, absorbing: bool) -> np.ndarray:
    """Or (absorbing True) or and (absorbing False) of bool columns and scalars."""
    # Scalars are settled in Python: numpy's scalar-broadcast bool ops are ten times slower.
    scalars = [bool(part) for part in parts if not np.ndim(part)]
    columns = [part for part in parts if np.ndim(part)]
    if absorbing in scalars:
        return np.full(size, absorbing)
    if not columns:
        return np.full(size, not absorbing)
    return reduce(np.logical_or if absorbing else np.logical_and, columns)


def _not_below(value, bound) -> np.ndarray:
    """True unless both are known and value < bound (NaN compares false), as in candidates.py."""
    below = np.less(value, bound)
    return np.logical_not(below, out=below)


def _flags(need: _Columns, product: _Columns, hits: dict, config: RuleConfig, size: int) -> dict:
    """Per row and named as in NEED_BITS, PRODUCT_BITS and CONSTRAINTS: bool flags."""
    n, p = need.side.numbers, product.side.numbers
    hit = {name: _hit(h) for name, h in hits.items()}
    amount, tenor = n["amount_usd"], n["tenor"]
    low = product.scaled("ticket_min", 1 - config.ticket_tolerance)
    high = product.scaled("ticket_max", 1 + config.ticket_tolerance)
    years = config.tenor_tolerance
    both = {
        "currency": (need.positive("currency_ok"), product.positive("currency_ok")),
        "tenor": (_not_below(tenor, p["tenor_min"]), _not_below(p["tenor_max"], tenor)),
        "tenor_near": (
            _not_below(tenor, product.shifted("tenor_min", -years)),
            _not_below(product.shifted("tenor_max", years), tenor),
        ),
        "ticket": (_not_below(amount, low), _not_below(high, amount)),
        "ticket_exact": (_not_below(amount, p["ticket_min"]), _not_below(p["ticket_max"], amount)),
    }
    flags = {name: _fold(parts, size, absorbing=False) for name, parts in both.items()}
    geo_open = _fold((product.blank("country"), product.blank("region")), size, absorbing=False)
    country = (geo_open, need.blank("country"), hit["country"], hit["region"])
    flags["country"] = _fold(country, size, absorbing=True)
    for name in ("instrument", "stage", "sector"):
        flags[name] = _fold((product.blank(name), need.blank(name), hit[name]), size, True)
    for name in ("country", "region", "sector", "technology"):
        flags[f"{name}_hit"] = hit[name]
    flags["impact"] = _not_below(n["tco2e"], p["min_tco2e"])
    flags["taxonomy"] = np.greater_equal(hits["taxonomy"], product.required())
    return flags


def _pack(bits: list[np.ndarray], size: int) -> np.ndarray:
    """Bool arrays packed into one uint8 per row, the first as the lowest bit."""
    out = np.zeros(size, dtype=np.uint8)
    for bit in reversed(bits):
        out += out  # shift by one bit (adds are vectorised for uint8; shifts are slower)
        out |= np.broadcast_to(bit, (size,)).view(np.uint8)
    return out


def rule_codes(flags: dict, taxonomy_hits, required, width: int, size: int) -> np.ndarray:
    """Per row: code = taxonomy (required, hits) pair · 2^14 + product flags · 2^6 + need flags."""
    taxonomy = np.minimum(taxonomy_hits, required, dtype=np.uint8)  # the share is capped at 1
    taxonomy += np.multiply(required, width, dtype=np.uint8)
    code = np.broadcast_to(taxonomy, (size,)).astype(np.uint32)
    code <<= len(PRODUCT_BITS)
    code |= _pack([flags[name] for name in PRODUCT_BITS], size)
    code <<= len(NEED_BITS)
    code |= _pack([flags[name] for name in NEED_BITS], size)
    return code


def screen(
    query: Side,
    items: Side,
    hits: dict,
    cosine,
    config: RuleConfig,
    k: int,
    need_is_query: bool,
    near_k: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (in `items`), stage-1 scores and tiers of the top k good items, then the top
    near_k near misses; excluded items are never returned. `items` are the candidate rows of a
    table (prune.candidates) or all of them; hits are aligned with them, and `cosine` is their
    stage-1 text score or a function of positions giving it (read for eligible items only)."""
    text = cosine.__getitem__ if isinstance(cosine, np.ndarray) else cosine
    query_cols, item_cols = _Columns(query), _Columns(items)
    need, product = (query_cols, item_cols) if need_is_query else (item_cols, query_cols)
    max_required = product.max_required()
    size = len(hits["taxonomy"])
    if max_required > MAX_REQUIRED:
        every = text(np.arange(size))
        return screen_pairwise(query, items, hits, every, config, (k, near_k), need_is_query)
    flags = _flags(need, product, hits, config, size)
    # One lookup table for any candidate set: its size does not depend on the rows at hand.
    code = rule_codes(flags, hits["taxonomy"], product.required(), MAX_REQUIRED + 1, size)
    rules, tiers = rule_tables(MAX_REQUIRED, config.near_miss_limit)

    def first_of(rows: np.ndarray) -> np.ndarray:
        return rules[code[rows]] + config.text_weight * text(rows)

    return _best(tiers[code], first_of, (k, near_k))


def _best(tier: np.ndarray, first_of, limits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top rows of each shown tier by stage-1 score (`first_of(rows)` gives the scores)."""
    parts = []
    for wanted, limit in zip((GOOD, NEAR_MISS), limits, strict=True):
        rows = np.flatnonzero(tier == wanted)
        first = first_of(rows)
        top = top_k(first, limit)
        parts.append((rows[top], first[top], np.full(top.size, wanted, dtype=np.int8)))
    rows, first, tiers = (np.concatenate(column) for column in zip(*parts, strict=True))
    return rows, first, tiers


def screen_pairwise(query, items: Side, hits, cosine, config, limits, need_is_query):
    """The same as screen, through rule_parts on the pairs (no limit on taxonomy requirements)."""
    pair = Pair(query, items, hits, {}, {}) if need_is_query else Pair(items, query, hits, {}, {})
    parts = rule_parts(pair, config)
    return _best(parts["tier"], lambda rows: stage_one(parts, cosine, config)[rows], limits)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, highest first (argpartition, then sort only those)."""
    k = min(k, scores.size)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    return part[np.argsort(-scores[part], kind="stable")]
