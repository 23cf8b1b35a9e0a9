"""Two-stage ranking both ways: rules + text cosine, then a learned model on the top."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import track
from .calibration import Calibrator
from .candidates import EXCLUDED, Pair, RuleConfig, harmonic, stage_one
from .features import (
    FEATURE_NAMES,
    FEATURES,
    compute_features,
    hits_for_grid,
    stage_one_text,
    text_for_need,
    text_for_product,
)
from .index import MatchingIndex
from .learners import EXPLANATION, acceptance, approximate_terms, exact_terms
from .prune import candidates
from .prune import hits as prune_hits
from .records import Need, Product
from .screen import screen
from .stats import AcceptanceStats, AlignedRates, align

HEAD_SIDES = {
    "need": ("need", "both"),
    "product": ("product", "both"),
    "joint": ("need", "product", "both"),
}


def head_columns(head: str, excluded=()) -> np.ndarray:
    """Feature columns a head of the model reads (leaving out the excluded feature names)."""
    return np.array(
        [
            j
            for j, (name, side) in enumerate(FEATURES)
            if side in HEAD_SIDES[head] and name not in excluded
        ]
    )


@dataclass
class RankerModel:
    """Learned stage 2: heads of one learner (see learners.py), a calibrator from their score to
    the chance of acceptance, and the acceptance statistics the features read."""

    heads: dict[str, Any]
    stats: AcceptanceStats
    config: RuleConfig = field(default_factory=RuleConfig)
    stage_two: int = 300  # stage-1 candidates re-scored by the learned heads
    feature_names: tuple[str, ...] = FEATURE_NAMES
    version: str | None = None
    learner: str = "logistic"
    excluded: tuple[str, ...] = ()  # features the heads do not read
    calibrator: Calibrator | None = None  # None: too few decisions to fit one out of fold
    medians: np.ndarray | None = None  # training medians: the reference of approximate terms

    @property
    def explanation_method(self) -> str:
        """Whether contributions are "exact" (logistic) or "approximate" (boosting)."""
        return EXPLANATION[self.learner]

    def columns(self, head: str) -> np.ndarray:
        """Feature columns a head reads."""
        return head_columns(head, self.excluded)

    def head_scores(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Acceptance score per head for a feature matrix (..., F)."""
        flat = X.reshape(-1, X.shape[-1])
        if not flat.shape[0]:  # sklearn refuses an empty matrix
            return {name: np.zeros(X.shape[:-1]) for name in self.heads}
        return {
            name: acceptance(head, flat[:, self.columns(name)]).reshape(X.shape[:-1])
            for name, head in self.heads.items()
        }

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Ranking score (higher is better): the joint head, or the harmonic mean of the
        need→product and product→need heads."""
        scores = self.head_scores(X)
        if "joint" in scores:
            return scores["joint"]
        return harmonic(scores["need"], scores["product"])

    def probability(self, X: np.ndarray) -> np.ndarray:
        """Estimated chance, in [0, 1], that a broker accepts each pair: the scale people see.
        Calibrated on out-of-fold scores, non-decreasing in `predict`."""
        return self.chance(self.predict(X))

    def chance(self, scores: np.ndarray) -> np.ndarray:
        """`probability` from scores `predict` already gave."""
        return self.calibrator(scores) if self.calibrator is not None else np.clip(scores, 0, 1)

    def contributions(self, x: np.ndarray, limit: int = 5) -> list[dict]:
        """Largest terms of one pair's logit per head (exact or approximate: see
        `explanation_method`)."""
        terms = []
        for name, head in self.heads.items():
            cols = self.columns(name)
            if self.learner == "boosting":
                values = approximate_terms(head, x[cols], self.medians[cols])
            else:
                values = exact_terms(head, x[cols])
            terms += [
                {
                    "feature": FEATURE_NAMES[j],
                    "head": name,
                    "value": float(x[j]),
                    "contribution": float(term),
                }
                for j, term in zip(cols, values, strict=True)
            ]
        return sorted(terms, key=lambda t: -abs(t["contribution"]))[:limit]

    def aligned(self, index: MatchingIndex) -> AlignedRates:
        """Acceptance rates laid out along the index, computed once per index and model."""
        # Keyed by id() and checked by a weak reference: once a model is gone, a new one may
        # get its id, and must not read the old one's rates (another fold's decisions).
        key = ("rates", id(self))
        owner, rates = index.cache.get(key, (None, None))
        if owner is None or owner() is not self:
            rates = align(self.stats, index.products.records, list(index.vocabulary.ids["sector"]))
            index.cache[key] = (weakref.ref(self), rates)
        return rates


NEAR_MISSES = 20  # near misses ranked per query, beside the good candidates


@dataclass
class Ranking:
    """Top rows of the other side for one query: good ones best first, then near misses."""

    rows: np.ndarray
    scores: np.ndarray  # the ranking score (stage 1 at cold start, else the model's)
    features: np.ndarray
    met: dict[str, np.ndarray]
    stage: str  # "learned" or "rules"
    tiers: np.ndarray  # candidates.GOOD or candidates.NEAR_MISS per row
    probability: np.ndarray | None = None  # calibrated chance of acceptance (None at cold start)


def _zero_rates(shape) -> dict[str, np.ndarray]:
    zero = np.zeros(shape)
    return {"product_rate": zero, "product_log_n": zero, "investor_sector_rate": zero}


def _finish(pair: Pair, model, config: RuleConfig, stage1, tiers, limit: int) -> Ranking:
    """Score the candidates with the learned heads (if any); per tier keep the best `limit`."""
    X, parts = compute_features(pair, config)
    scores = model.predict(X) if model is not None and len(X) else stage1
    order = np.lexsort((-scores, tiers))  # good before near misses, best first within each
    keep = np.concatenate([order[tiers[order] == t][:limit] for t in np.unique(tiers)] or [order])
    met = {c: np.broadcast_to(v, scores.shape)[keep] for c, v in parts["met"].items()}
    probability = model.chance(scores[keep]) if model is not None and keep.size else None
    stage = "learned" if model else "rules"
    return Ranking(keep, scores[keep], X[keep], met, stage, tiers[keep], probability)


def rank_products(
    index: MatchingIndex,
    need: Need,
    model: RankerModel | None = None,
    limit: int = 100,
    config: RuleConfig | None = None,
) -> Ranking:
    """Products for a need: stage 0 keeps the products the mandate may allow (prune.py), stage 1
    grades them, stage 2 re-scores the top few hundred."""
    config = model.config if model else config or RuleConfig()
    query = index.need_query(need)
    rows = candidates(index.products, query, config, need_is_query=True)
    hits = prune_hits(index.products, query.token_ids, rows)
    cosine = stage_one_text(index.products, index.vectoriser, query.text, rows)
    products = index.products.side
    k = max(model.stage_two if model else 0, limit)
    top, first, tiers = screen(
        query.side, products.take(rows), hits, cosine, config, k, True, near_k=NEAR_MISSES
    )
    hits, top = {name: v[top] for name, v in hits.items()}, rows[top]
    rates = _zero_rates(top.shape)
    if model is not None:
        rates = model.aligned(index).for_pairs(top, model.aligned(index).sector_code(need.sector))
    rates = {**rates, **track.for_need(index, need, top)}
    pair = Pair(query.side, products.take(top), hits, text_for_need(index, query, top), rates)
    ranking = _finish(pair, model, config, first, tiers, limit)
    ranking.rows = top[ranking.rows]
    return ranking


def rank_needs(
    index: MatchingIndex,
    product: Product,
    model: RankerModel | None = None,
    limit: int = 100,
    config: RuleConfig | None = None,
) -> Ranking:
    """Needs for a product: the same two stages, scored from the product's side."""
    config = model.config if model else config or RuleConfig()
    query = index.product_query(product)
    rows = candidates(index.needs, query, config, need_is_query=False)
    hits = prune_hits(index.needs, query.token_ids, rows)
    cosine = stage_one_text(index.needs, index.vectoriser, query.text, rows)
    needs = index.needs.side
    k = max(model.stage_two if model else 0, limit)
    top, first, tiers = screen(
        query.side, needs.take(rows), hits, cosine, config, k, False, near_k=NEAR_MISSES
    )
    hits, top = {name: v[top] for name, v in hits.items()}, rows[top]
    rates = _zero_rates(top.shape)
    if model is not None:
        rates = _product_rates(index, model, product, top)
    rates = {**rates, **track.for_product(index, product, top)}
    pair = Pair(needs.take(top), query.side, hits, text_for_product(index, query, top), rates)
    ranking = _finish(pair, model, config, first, tiers, limit)
    ranking.rows = top[ranking.rows]
    return ranking


def _product_rates(index: MatchingIndex, model: RankerModel, product: Product, need_rows) -> dict:
    """Rates of one product against many needs (the product may be new to the index)."""
    stats = model.stats
    sectors = [index.needs.records[r].sector for r in need_rows]
    decided = stats.product.get(product.id, (0, 0))[1]
    return {
        "product_rate": np.full(len(need_rows), stats.rate(stats.product, product.id)),
        "product_log_n": np.full(len(need_rows), np.log1p(decided)),
        "investor_sector_rate": np.array(
            [stats.rate(stats.investor_sector, (product.investor_key, s)) for s in sectors]
        ),
    }


def grid_scores(
    index: MatchingIndex, need_rows: np.ndarray, model: RankerModel | None, config: RuleConfig
) -> dict[str, np.ndarray]:
    """Scores of some needs against every product: rules, tfidf, stage 1 and learned."""
    hits, text = hits_for_grid(index, need_rows)
    need_side = index.needs.side.take(np.asarray(need_rows)[:, None])
    product_side = index.products.side.take(np.newaxis)
    rates = _zero_rates((1, len(index.products)))
    if model is not None:
        aligned = model.aligned(index)
        codes = np.array([aligned.sector_code(index.needs.records[r].sector) for r in need_rows])
        rates = aligned.for_pairs(np.arange(len(index.products))[None, :], codes[:, None])
    rates = {**rates, **track.for_grid(index, need_rows)}
    X, parts = compute_features(Pair(need_side, product_side, hits, text, rates), config)
    tiers = parts["tier"]
    # Shown order: good pairs, then near misses, then (never shown) excluded ones.
    first = stage_one(parts, text["stage1"], config) - 100.0 * tiers
    out = {"rules": parts["rules"], "tfidf": text["text"], "stage1": first, "tiers": tiers}
    if model is not None:
        out["learned"] = _two_stage(first, _predict_top(model, X, first), tiers, model.stage_two)
    return out


def _predict_top(model: RankerModel, X: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The model's scores of each row's stage-1 top k (the only ones `_two_stage` reads; 0
    elsewhere): a boosted model then scores 300 pairs a need, not every product."""
    k = min(model.stage_two, first.shape[1])
    top = np.argpartition(-first, k - 1, axis=1)[:, :k]
    rows = np.arange(first.shape[0])[:, None]
    scores = np.zeros(first.shape)
    scores[rows, top] = model.predict(X[rows, top])
    return scores


def _two_stage(first: np.ndarray, learned: np.ndarray, tiers: np.ndarray, k: int) -> np.ndarray:
    """Learned scores on each row's stage-1 top k of eligible pairs, ranked above the rest kept
    in stage-1 order; good pairs above near misses, excluded pairs last."""
    k = min(k, first.shape[1])
    top = np.argpartition(-first, k - 1, axis=1)[:, :k]
    rows = np.arange(first.shape[0])[:, None]
    # Stage-1 scores of one tier lie within [-2.5, 1.5] and tiers are 100 apart; the learned
    # score, squashed into (0, 1) keeping its order, + 10 lifts the re-scored pairs above the
    # rest of their own tier only.
    final = first.copy()
    squashed = 0.5 + np.arctan(learned[rows, top]) / np.pi
    eligible = tiers[rows, top] != EXCLUDED
    final[rows, top] = np.where(
        eligible, 10.0 + squashed - 100.0 * tiers[rows, top], first[rows, top]
    )
    return final
