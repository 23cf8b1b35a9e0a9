"""Train the stage-2 heads from broker decisions and decide whether a new version may go live."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from . import track
from .calibration import brier, choose_calibrator, expected_calibration_error
from .candidates import Pair, RuleConfig
from .features import FEATURE_NAMES, compute_features, hits_for_pairs
from .index import MatchingIndex
from .learners import fit_head, head_names
from .metrics import METRICS, jitter, per_need, summarise
from .ranker import RankerModel, grid_scores, head_columns
from .records import DEFAULT_USD_RATES, Need, Product
from .stats import AcceptanceStats, out_of_fold_rates

INNER_FOLDS = 5
DEFAULT_LEARNER = "logistic"  # boosting did not win by a margin above 0: see README.md


@dataclass
class Decisions:
    """Labelled decisions as index rows: accepted → 1, rejected → 0."""

    need_rows: np.ndarray
    product_rows: np.ndarray
    accepted: np.ndarray

    def __len__(self) -> int:
        return len(self.accepted)

    def subset(self, mask) -> Decisions:
        """Only the decisions selected by a mask or index array."""
        return Decisions(self.need_rows[mask], self.product_rows[mask], self.accepted[mask])


def decisions_from(index: MatchingIndex, decisions: Iterable[dict]) -> Decisions:
    """Rows of labelled decisions; shown-but-ignored (accepted None) and unknown ids are dropped."""
    needs, products = index.needs.row_of, index.products.row_of
    rows = [
        (needs[d["need"]], products[d["product"]], bool(d["accepted"]))
        for d in decisions
        if d.get("accepted") is not None and d.get("need") in needs and d.get("product") in products
    ]
    n, p, a = zip(*rows, strict=True) if rows else ((), (), ())
    return Decisions(
        np.array(n, dtype=np.int64), np.array(p, dtype=np.int64), np.array(a, dtype=bool)
    )


def data_hash(index: MatchingIndex, decisions: Decisions) -> str:
    """SHA-256 of the labelled decisions, order-independent."""
    needs, products = index.needs.records, index.products.records
    rows = sorted(
        (repr(needs[n].id), repr(products[p].id), bool(a))
        for n, p, a in zip(
            decisions.need_rows, decisions.product_rows, decisions.accepted, strict=True
        )
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def group_codes(index: MatchingIndex, decisions: Decisions) -> np.ndarray:
    """Integer code of (investor of the product, sector of the need) per decision."""
    investors: dict[Any, int] = {}
    inv = np.array(
        [investors.setdefault(p.investor_key, len(investors)) for p in index.products.records]
    )
    sectors = {s: i for i, s in enumerate(index.vocabulary.ids["sector"])}
    sec = np.array(
        [sectors.get(n.sector, len(sectors)) for n in index.needs.records], dtype=np.int64
    )
    width = len(sectors) + 1
    return inv[decisions.product_rows] * width + sec[decisions.need_rows]


def inner_folds(decisions: Decisions, seed: int) -> np.ndarray:
    """Fold (0 … INNER_FOLDS − 1) of each decision, every decision of a need in the same one."""
    needs = np.unique(decisions.need_rows)
    fold_of = np.random.default_rng(seed).permutation(needs.size) % INNER_FOLDS
    return fold_of[np.searchsorted(needs, decisions.need_rows)]


def _decided_features(
    index: MatchingIndex, decisions: Decisions, rates: dict, config
) -> np.ndarray:
    """Features of the decided (need, product) pairs given their acceptance rates."""
    rates |= track.for_pairs(index, decisions.need_rows, decisions.product_rows)
    hits, text = hits_for_pairs(index, decisions.need_rows, decisions.product_rows)
    need, product = index.needs.side, index.products.side
    pair = Pair(
        need.take(decisions.need_rows), product.take(decisions.product_rows), hits, text, rates
    )
    return compute_features(pair, config)[0]


def training_matrix(index: MatchingIndex, decisions: Decisions, config: RuleConfig, seed: int):
    """Features of the decided pairs, with acceptance rates computed out of fold by need."""
    folds = inner_folds(decisions, seed)
    rates = out_of_fold_rates(
        decisions.product_rows, group_codes(index, decisions), decisions.accepted, folds
    )
    return _decided_features(index, decisions, rates, config)


@dataclass(frozen=True)
class Recipe:
    """What to fit: the learner, its heads, and features left out."""

    learner: str = DEFAULT_LEARNER
    heads: tuple[str, ...] = ("need", "product")
    excluded: tuple[str, ...] = ()

    def fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> dict:
        """Fitted heads."""
        return {
            name: fit_head(X[:, head_columns(name, self.excluded)], y, self.learner, seed)
            for name in self.heads
        }

    def model(self, heads: dict, stats: AcceptanceStats, **extra) -> RankerModel:
        """A RankerModel of fitted heads."""
        return RankerModel(
            heads=heads, stats=stats, learner=self.learner, excluded=self.excluded, **extra
        )


def out_of_fold_scores(X, y, folds, recipe: Recipe, seed: int) -> np.ndarray | None:
    """Each decision's score from heads fitted without its fold (None: a fold cannot be fitted)."""
    scores = np.empty(len(y))
    for fold in np.unique(folds):
        inside = folds == fold
        if np.unique(y[~inside]).size < 2:
            return None
        heads = recipe.fit(X[~inside], y[~inside], seed)
        scores[inside] = recipe.model(heads, AcceptanceStats()).predict(X[inside])
    return scores


def acceptance_stats(index: MatchingIndex, decisions: Decisions) -> AcceptanceStats:
    """Acceptance counts of the decisions by product and by (investor, need sector)."""
    products, needs = index.products.records, index.needs.records
    return AcceptanceStats.count(
        [products[p].id for p in decisions.product_rows],
        [products[p].investor_key for p in decisions.product_rows],
        [needs[n].sector for n in decisions.need_rows],
        decisions.accepted,
    )


def fit_model(
    index: MatchingIndex,
    decisions: Decisions,
    *,
    config: RuleConfig | None = None,
    combine: str = "harmonic",
    seed: int = 0,
    learner: str = DEFAULT_LEARNER,
    exclude: Sequence[str] = (),
    calibrate: bool = True,
) -> RankerModel | None:
    """Fit the heads on labelled decisions, and (unless told not to) a calibrator on their
    out-of-fold scores; None when both labels are not present (cold start)."""
    config = config or RuleConfig()
    if len(np.unique(decisions.accepted)) < 2:
        return None
    recipe = Recipe(learner, head_names(learner, combine), tuple(exclude))
    X, y = training_matrix(index, decisions, config, seed), decisions.accepted
    model = recipe.model(
        recipe.fit(X, y, seed),
        acceptance_stats(index, decisions),
        config=config,
        medians=np.median(X, axis=0),
    )
    scores = (
        out_of_fold_scores(X, y, inner_folds(decisions, seed), recipe, seed) if calibrate else None
    )
    if scores is not None:
        model.calibrator = choose_calibrator(scores, y, decisions.need_rows, seed)
    return model


def pair_features(index: MatchingIndex, model: RankerModel, decisions: Decisions) -> np.ndarray:
    """Features of decided pairs as a model sees them when serving (rates from its statistics)."""
    aligned = model.aligned(index)
    sectors = [index.needs.records[r].sector for r in decisions.need_rows]
    codes = np.array([aligned.sector_code(s) for s in sectors], dtype=np.int64)
    rates = aligned.for_pairs(decisions.product_rows, codes)
    return _decided_features(index, decisions, rates, model.config)


def relevant_by_need(decisions: Decisions) -> tuple[np.ndarray, list[np.ndarray]]:
    """Needs with at least one accepted decision, and their accepted product rows."""
    accepted = decisions.subset(decisions.accepted)
    needs = np.unique(accepted.need_rows)
    order = np.argsort(accepted.need_rows, kind="stable")
    split = np.searchsorted(accepted.need_rows[order], needs)
    groups = np.split(accepted.product_rows[order], split[1:])
    return needs, [np.unique(g) for g in groups]


def holdout_metrics(
    index: MatchingIndex,
    model: RankerModel | None,
    held_out: Decisions,
    seed: int = 0,
    batch: int = 64,
) -> dict[str, float]:
    """Ranking metrics of a model (stage 1 when None) over every product, on held-out needs."""
    needs, relevant = relevant_by_need(held_out)
    config = model.config if model else RuleConfig()
    rng = np.random.default_rng(seed)
    values: dict[str, list] = {name: [] for name in METRICS}
    for start in range(0, needs.size, batch):
        scores = grid_scores(index, needs[start : start + batch], model, config)
        chosen = jitter(scores["learned" if model else "stage1"], rng)
        for name, v in per_need(chosen, relevant[start : start + batch]).items():
            values[name].append(v)
    if not needs.size:
        return dict.fromkeys(METRICS, 0.0) | {"needs": 0}
    return summarise(values) | {"needs": int(needs.size)}


def held_out_calibration(index: MatchingIndex, model: RankerModel | None, held_out) -> dict:
    """Brier score and ECE of a model's probabilities on held-out decisions ({} without one)."""
    if model is None or not len(held_out):
        return {}
    probability = model.probability(pair_features(index, model, held_out))
    method = model.calibrator.method if model.calibrator else None
    return {
        "brier": brier(probability, held_out.accepted),
        "ece": expected_calibration_error(probability, held_out.accepted),
        "method": method,
    }


def should_activate(new_metrics: dict, active_metrics: dict | None, tolerance: float = 0.0) -> bool:
    """A new version goes live unless it is worse than the active one on held-out NDCG@10."""
    if not active_metrics:
        return True
    return new_metrics["ndcg@10"] >= active_metrics["ndcg@10"] - tolerance


def _held_out_comparison(index, labelled: Decisions, active, seed: int, holdout: float):
    """Metrics of a model fitted without a held-out group of needs, of the stage-1 rules and of
    the active model (when it reads the same features) on those needs."""
    split = GroupShuffleSplit(n_splits=1, test_size=holdout, random_state=seed)
    fit_rows, test_rows = next(split.split(labelled.need_rows, groups=labelled.need_rows))
    held_out = labelled.subset(test_rows)
    candidate = fit_model(index, labelled.subset(fit_rows), seed=seed)
    metrics = holdout_metrics(index, candidate, held_out, seed)
    usable = active is not None and tuple(active.feature_names) == FEATURE_NAMES
    active_metrics = holdout_metrics(index, active, held_out, seed) if usable else None
    # The stage-1 rules on the same held-out needs: the baseline the ranker page compares with.
    metrics["baselines"] = {"rules": holdout_metrics(index, None, held_out, seed)}
    metrics["calibration"] = held_out_calibration(index, candidate, held_out)
    return metrics, active_metrics


@dataclass
class TrainResult:
    """What `flask ranker train` reports and stores."""

    model: RankerModel | None
    metrics: dict
    active_metrics: dict | None
    activate: bool
    data_hash: str
    decisions: int


def train(
    needs: Sequence[Need],
    products: Sequence[Product],
    decisions: Iterable[dict],
    *,
    active: RankerModel | None = None,
    usd_rates: dict[str, float] = DEFAULT_USD_RATES,
    seed: int = 0,
    holdout: float = 0.2,
    index: MatchingIndex | None = None,
) -> TrainResult:
    """Fit on needs outside a held-out group, compare with the active model there, refit on all."""
    index = index or MatchingIndex.build(needs, products, usd_rates=usd_rates, seed=seed)
    labelled = decisions_from(index, decisions)
    digest = data_hash(index, labelled)
    if len(np.unique(labelled.accepted)) < 2:
        return TrainResult(None, {}, None, False, digest, len(labelled))
    metrics, active_metrics = _held_out_comparison(index, labelled, active, seed, holdout)
    final = fit_model(index, labelled, seed=seed)
    metrics |= {
        "decisions": len(labelled),
        "accepted": int(labelled.accepted.sum()),
        "learner": final.learner,
    }
    return TrainResult(
        final,
        metrics,
        active_metrics,
        should_activate(metrics, active_metrics),
        digest,
        len(labelled),
    )
