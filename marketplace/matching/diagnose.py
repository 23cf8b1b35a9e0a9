"""Why a listing has few good matches: how many of the other side each constraint rules out."""

from __future__ import annotations

import numpy as np

from .candidates import EXCLUDED, GOOD, HARD, NEAR_MISS, Pair, RuleConfig, rule_parts, tenor_near
from .features import hits_for_need, hits_for_product
from .index import MatchingIndex
from .records import Need, Product


def _summary(pair: Pair, config: RuleConfig, total: int) -> dict:
    """Tier counts and, among excluded rows, how many each reason rules out (rows may count
    under several reasons); `main` is the reason that rules out the most."""
    parts = rule_parts(pair, config)
    tier = np.broadcast_to(parts["tier"], (total,))
    excluded = tier == EXCLUDED
    met = {name: np.broadcast_to(parts["met"][name], (total,)) for name in HARD}
    met["tenor"] = np.broadcast_to(tenor_near(pair, config.tenor_tolerance), (total,))
    by = {name: int((excluded & ~ok).sum()) for name, ok in met.items()}
    hard_ok = np.logical_and.reduce(list(met.values())) if met else np.ones(total, bool)
    by["several_near_misses"] = int((excluded & hard_ok).sum())
    by = {name: count for name, count in by.items() if count}
    return {
        "total": total,
        "good": int((tier == GOOD).sum()),
        "near_miss": int((tier == NEAR_MISS).sum()),
        "excluded": int(excluded.sum()),
        "excluded_by": dict(sorted(by.items(), key=lambda item: -item[1])),
        "main": max(by, key=by.get) if by else None,
    }


def diagnose_need(index: MatchingIndex, need: Need, config: RuleConfig | None = None) -> dict:
    """How the products of the index fall for one need (see _summary)."""
    query = index.need_query(need)
    hits, _ = hits_for_need(index, query)
    pair = Pair(query.side, index.products.side, hits, {}, {})
    return _summary(pair, config or RuleConfig(), len(index.products))


def diagnose_product(
    index: MatchingIndex, product: Product, config: RuleConfig | None = None
) -> dict:
    """How the needs of the index fall for one product (see _summary)."""
    query = index.product_query(product)
    hits, _ = hits_for_product(index, query)
    pair = Pair(index.needs.side, query.side, hits, {}, {})
    return _summary(pair, config or RuleConfig(), len(index.needs))
