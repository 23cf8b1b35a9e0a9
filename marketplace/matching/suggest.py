"""Suggestions to show: best-ranked items, exploration slots with their propensity, explanations."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .candidates import GOOD, NEAR_MISS, SOFT, RuleConfig
from .features import FEATURE_NAMES
from .index import MatchingIndex
from .ranker import RankerModel, Ranking, rank_needs, rank_products
from .reasons import reasons
from .records import Need, Product

EXPLORE_SHARE = 0.2  # 1 of every 5 shown
EXPLORE_UNTIL = 100  # exploration slots draw from the good candidates ranked k+1 … 100
DEFAULT_K = 5
TIER_NAMES = {GOOD: "good", NEAR_MISS: "near_miss"}


@dataclass
class Suggestion:
    """One item to show, with how it was chosen and why (all fields JSON-serialisable).

    `score` ranks (stage 1 at cold start, else the model's score); `probability` is the
    calibrated chance that a broker accepts, the only number people see (None at cold start).
    `tier` is "good" or "near_miss"; near misses are ranked among themselves (rank 1, 2, …).
    """

    id: Any
    score: float
    probability: float | None
    rank: int
    tier: str
    is_exploration: bool
    propensity: float
    explanation: dict
    features: dict


def _rng(seed: int, query_id: Any) -> np.random.Generator:
    """Generator fixed by the seed and the query, so a page is reproducible."""
    return np.random.default_rng([seed, zlib.crc32(repr(query_id).encode())])


def plan_slots(available: int, k: int, seed: int, query_id: Any, explore: bool = True):
    """(ranking position, is_exploration, propensity) of up to k slots, in display order."""
    wanted, k = k, min(k, available)
    n_explore = int(round(k * EXPLORE_SHARE)) if explore else 0
    pool = np.arange(wanted, min(EXPLORE_UNTIL, available))
    n_explore = min(n_explore, pool.size)
    slots = [(i, False, 1.0) for i in range(k - n_explore)]
    if n_explore:
        rng = _rng(seed, query_id)
        picks = np.sort(rng.choice(pool, n_explore, replace=False))
        places = np.sort(rng.choice(k, n_explore, replace=False))
        for place, pick in zip(places, picks, strict=True):
            slots.insert(int(place), (int(pick), True, n_explore / pool.size))
    return slots


def _soft_missed(ranking: Ranking, i: int, value: dict) -> list[str]:
    """Soft constraints a pair misses (the reason a near miss is one)."""
    missed = [c for c in SOFT if c in ranking.met and not bool(ranking.met[c][i])]
    exact_missed = value["ticket_known"] and not value["ticket_in_range"]
    return (["ticket_exact"] if exact_missed else []) + missed


def _rule_contributions(value: dict, config: RuleConfig) -> list[dict]:
    """What the stage-1 score is made of, when no model is trained yet."""
    return [
        {"feature": "need_side_fit", "value": value["need_side_fit"], "contribution": None},
        {"feature": "product_side_fit", "value": value["product_side_fit"], "contribution": None},
        {
            "feature": "text_cosine",
            "value": value["text_cosine"],
            "contribution": config.text_weight * value["text_cosine"],
        },
    ]


def _explanation(ranking: Ranking, i: int, model, config, pair, texts, weights, vectoriser):
    x = ranking.features[i]
    value = dict(zip(FEATURE_NAMES, x.tolist(), strict=True))
    contributions = model.contributions(x) if model is not None else []
    soft = _soft_missed(ranking, i, value)
    return {
        "stage": ranking.stage,
        "ranker_version": getattr(model, "version", None),
        "explanation_method": getattr(model, "explanation_method", "exact"),
        "tier": TIER_NAMES[int(ranking.tiers[i])],
        "constraints_met": [c for c, v in ranking.met.items() if bool(v[i])],
        "constraints_missed": [c for c, v in ranking.met.items() if not bool(v[i])],
        "near_miss_on": soft,
        "rule_score": value["rule_score"],
        "text_cosine": value["text_cosine"],
        "contributions": contributions or _rule_contributions(value, config),
        "reasons": reasons(*pair, value, soft, contributions),
        "shared_terms": vectoriser.shared_terms(*texts, weights=weights),
    }


def _suggestion(ranking, i, rank, slot, context) -> Suggestion:
    """One shown item: its scores, tier, slot and explanation."""
    items, query_table, query, model, config, vectoriser = context
    row = int(ranking.rows[i])
    item = items.records[row]
    own = (query.text, query_table.weights_of(query))  # index rows when known: no re-transform
    other = (item.text, items.weights(row))
    (text_a, weights_a), (text_b, weights_b) = (
        (own, other) if isinstance(query, Need) else (other, own)
    )
    pair = (query, item) if isinstance(query, Need) else (item, query)
    probability = None if ranking.probability is None else float(ranking.probability[i])
    return Suggestion(
        id=item.id,
        score=float(ranking.scores[i]),
        probability=probability,
        rank=rank,
        tier=TIER_NAMES[int(ranking.tiers[i])],
        is_exploration=slot[0],
        propensity=float(slot[1]),
        explanation=_explanation(
            ranking, i, model, config, pair, (text_a, text_b), (weights_a, weights_b), vectoriser
        ),
        features=dict(zip(FEATURE_NAMES, ranking.features[i].tolist(), strict=True)),
    )


def _suggestions(ranking: Ranking, context, k: int, near_k: int, seed, explore):
    """The good ones for the planned slots (with exploration), then the best near misses."""
    query = context[2]
    good = np.flatnonzero(ranking.tiers == GOOD)
    near = np.flatnonzero(ranking.tiers == NEAR_MISS)[:near_k]
    out = [
        _suggestion(ranking, int(good[i]), rank, (explored, p), context)
        for rank, (i, explored, p) in enumerate(
            plan_slots(good.size, k, seed, query.id, explore), start=1
        )
    ]
    out += [
        _suggestion(ranking, int(i), rank, (False, 1.0), context)
        for rank, i in enumerate(near, start=1)
    ]
    return out


def suggest_for_need(
    index: MatchingIndex,
    need: Need,
    model: RankerModel | None = None,
    k: int = DEFAULT_K,
    seed: int = 0,
    explore: bool = True,
    config: RuleConfig | None = None,
    near_k: int | None = None,
) -> list[Suggestion]:
    """Up to k good products for a need, then up to near_k (default k) near misses."""
    config = model.config if model else config or RuleConfig()
    ranking = rank_products(index, need, model, limit=EXPLORE_UNTIL, config=config)
    context = (index.products, index.needs, need, model, config, index.vectoriser)
    return _suggestions(ranking, context, k, k if near_k is None else near_k, seed, explore)


def suggest_for_product(
    index: MatchingIndex,
    product: Product,
    model: RankerModel | None = None,
    k: int = DEFAULT_K,
    seed: int = 0,
    explore: bool = True,
    config: RuleConfig | None = None,
    near_k: int | None = None,
) -> list[Suggestion]:
    """Up to k good needs for a product, then up to near_k (default k) near misses."""
    config = model.config if model else config or RuleConfig()
    ranking = rank_needs(index, product, model, limit=EXPLORE_UNTIL, config=config)
    context = (index.needs, index.products, product, model, config, index.vectoriser)
    return _suggestions(ranking, context, k, k if near_k is None else near_k, seed, explore)
