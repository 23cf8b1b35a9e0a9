"""Suggestions to show: best-ranked items, exploration slots with their propensity, explanations."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .candidates import RuleConfig
from .features import FEATURE_NAMES
from .index import MatchingIndex, Table
from .ranker import RankerModel, Ranking, rank_needs, rank_products
from .records import Need, Product

EXPLORE_SHARE = 0.2  # 2 of every 10 shown
EXPLORE_POOL = (11, 100)  # ranks (1-based, inclusive) exploration slots draw from


@dataclass
class Suggestion:
    """One item to show, with how it was chosen and why (all fields JSON-serialisable)."""

    id: Any
    score: float
    rank: int
    is_exploration: bool
    propensity: float
    explanation: dict
    features: dict


def _rng(seed: int, query_id: Any) -> np.random.Generator:
    """Generator fixed by the seed and the query, so a page is reproducible."""
    return np.random.default_rng([seed, zlib.crc32(repr(query_id).encode())])


def plan_slots(available: int, k: int, seed: int, query_id: Any, explore: bool = True):
    """(ranking position, is_exploration, propensity) of up to k slots, in display order."""
    k = min(k, available)
    n_explore = int(round(k * EXPLORE_SHARE)) if explore else 0
    first = max(EXPLORE_POOL[0], k - n_explore + 1) - 1
    pool = np.arange(first, min(EXPLORE_POOL[1], available))
    n_explore = min(n_explore, pool.size)
    slots = [(i, False, 1.0) for i in range(k - n_explore)]
    if n_explore:
        rng = _rng(seed, query_id)
        picks = np.sort(rng.choice(pool, n_explore, replace=False))
        places = np.sort(rng.choice(k, n_explore, replace=False))
        for place, pick in zip(places, picks, strict=True):
            slots.insert(int(place), (int(pick), True, n_explore / pool.size))
    return slots


def _explanation(ranking: Ranking, i: int, model, config, texts, weights, vectoriser) -> dict:
    x = ranking.features[i]
    met = [c for c, v in ranking.met.items() if bool(v[i])]
    missed = [c for c, v in ranking.met.items() if not bool(v[i])]
    value = dict(zip(FEATURE_NAMES, x.tolist(), strict=True))
    if model is not None:
        contributions = model.contributions(x)
    else:
        contributions = [
            {"feature": "need_side_fit", "value": value["need_side_fit"], "contribution": None},
            {
                "feature": "product_side_fit",
                "value": value["product_side_fit"],
                "contribution": None,
            },
            {
                "feature": "text_cosine",
                "value": value["text_cosine"],
                "contribution": config.text_weight * value["text_cosine"],
            },
        ]
    return {
        "stage": ranking.stage,
        "ranker_version": getattr(model, "version", None),
        "constraints_met": met,
        "constraints_missed": missed,
        "near_miss": bool(missed),
        "rule_score": value["rule_score"],
        "text_cosine": value["text_cosine"],
        "contributions": contributions,
        "shared_terms": vectoriser.shared_terms(*texts, weights=weights),
    }


def _suggestions(
    ranking: Ranking,
    tables: tuple[Table, Table],
    query,
    model,
    config,
    vectoriser,
    k,
    seed,
    explore,
) -> list[Suggestion]:
    """Suggestions from `tables` (items' table, query's table) for the planned slots."""
    items, query_table = tables
    query_weights = query_table.weights_of(query)  # the index's TF-IDF rows: no re-transform
    out = []
    slots = plan_slots(len(ranking.rows), k, seed, query.id, explore)
    for shown, (i, is_exploration, propensity) in enumerate(slots, start=1):
        row = int(ranking.rows[i])
        item = items.records[row]
        pairs = ((query.text, query_weights), (item.text, items.weights(row)))
        (text_a, weights_a), (text_b, weights_b) = pairs if isinstance(query, Need) else pairs[::-1]
        texts, weights = (text_a, text_b), (weights_a, weights_b)
        out.append(
            Suggestion(
                id=item.id,
                score=float(ranking.scores[i]),
                rank=shown,
                is_exploration=is_exploration,
                propensity=float(propensity),
                explanation=_explanation(ranking, i, model, config, texts, weights, vectoriser),
                features=dict(zip(FEATURE_NAMES, ranking.features[i].tolist(), strict=True)),
            )
        )
    return out


def suggest_for_need(
    index: MatchingIndex,
    need: Need,
    model: RankerModel | None = None,
    k: int = 10,
    seed: int = 0,
    explore: bool = True,
    config: RuleConfig | None = None,
) -> list[Suggestion]:
    """Products to show for a need (stage 1 only when there is no model yet)."""
    config = model.config if model else config or RuleConfig()
    ranking = rank_products(index, need, model, limit=EXPLORE_POOL[1], config=config)
    return _suggestions(
        ranking,
        (index.products, index.needs),
        need,
        model,
        config,
        index.vectoriser,
        k,
        seed,
        explore,
    )


def suggest_for_product(
    index: MatchingIndex,
    product: Product,
    model: RankerModel | None = None,
    k: int = 10,
    seed: int = 0,
    explore: bool = True,
    config: RuleConfig | None = None,
) -> list[Suggestion]:
    """Needs to show for a product (stage 1 only when there is no model yet)."""
    config = model.config if model else config or RuleConfig()
    ranking = rank_needs(index, product, model, limit=EXPLORE_POOL[1], config=config)
    return _suggestions(
        ranking,
        (index.needs, index.products),
        product,
        model,
        config,
        index.vectoriser,
        k,
        seed,
        explore,
    )
