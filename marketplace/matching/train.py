"""Train the stage-2 heads from broker decisions and decide whether a new version may go live."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .candidates import Pair, RuleConfig
from .features import FEATURE_NAMES, compute_features, hits_for_pairs
from .index import MatchingIndex
from .metrics import METRICS, jitter, per_need, summarise
from .ranker import RankerModel, grid_scores, head_columns
from .records import DEFAULT_USD_RATES, Need, Product
from .stats import AcceptanceStats, out_of_fold_rates

INNER_FOLDS = 5


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


def training_matrix(index: MatchingIndex, decisions: Decisions, config: RuleConfig, seed: int):
    """Features of the decided pairs, with acceptance rates computed out of fold by need."""
    needs = np.unique(decisions.need_rows)
    fold_of = dict(
        zip(needs, np.random.default_rng(seed).permutation(needs.size) % INNER_FOLDS, strict=True)
    )
    folds = np.array([fold_of[n] for n in decisions.need_rows])
    rates = out_of_fold_rates(
        decisions.product_rows, group_codes(index, decisions), decisions.accepted, folds
    )
    hits, text = hits_for_pairs(index, decisions.need_rows, decisions.product_rows)
    pair = Pair(
        index.needs.side.take(decisions.need_rows),
        index.products.side.take(decisions.product_rows),
        hits,
        text,
        rates,
    )
    return compute_features(pair, config)[0]


def _head(X: np.ndarray, y: np.ndarray, head: str, seed: int) -> Pipeline:
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    return Pipeline([("scale", StandardScaler()), ("lr", model)]).fit(X[:, head_columns(head)], y)


def fit_model(
    index: MatchingIndex,
    decisions: Decisions,
    *,
    config: RuleConfig | None = None,
    combine: str = "harmonic",
    seed: int = 0,
) -> RankerModel | None:
    """Fit the heads on labelled decisions; None when both labels are not present (cold start)."""
    config = config or RuleConfig()
    if len(np.unique(decisions.accepted)) < 2:
        return None
    X = training_matrix(index, decisions, config, seed)
    names = ("need", "product") if combine == "harmonic" else ("joint",)
    heads = {name: _head(X, decisions.accepted, name, seed) for name in names}
    products, needs = index.products.records, index.needs.records
    stats = AcceptanceStats.count(
        [products[p].id for p in decisions.product_rows],
        [products[p].investor_key for p in decisions.product_rows],
        [needs[n].sector for n in decisions.need_rows],
        decisions.accepted,
    )
    return RankerModel(heads=heads, stats=stats, config=config)


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


def should_activate(new_metrics: dict, active_metrics: dict | None, tolerance: float = 0.0) -> bool:
    """A new version goes live unless it is worse than the active one on held-out NDCG@10."""
    if not active_metrics:
        return True
    return new_metrics["ndcg@10"] >= active_metrics["ndcg@10"] - tolerance


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
    split = GroupShuffleSplit(n_splits=1, test_size=holdout, random_state=seed)
    fit_rows, test_rows = next(split.split(labelled.need_rows, groups=labelled.need_rows))
    candidate = fit_model(index, labelled.subset(fit_rows), seed=seed)
    metrics = holdout_metrics(index, candidate, labelled.subset(test_rows), seed)
    usable = active is not None and tuple(active.feature_names) == FEATURE_NAMES
    active_metrics = (
        holdout_metrics(index, active, labelled.subset(test_rows), seed) if usable else None
    )
    final = fit_model(index, labelled, seed=seed)
    # The stage-1 rules on the same held-out needs: the baseline the ranker page compares with.
    rules = holdout_metrics(index, None, labelled.subset(test_rows), seed)
    metrics |= {
        "decisions": len(labelled),
        "accepted": int(labelled.accepted.sum()),
        "baselines": {"rules": rules},
    }
    return TrainResult(
        final,
        metrics,
        active_metrics,
        should_activate(metrics, active_metrics),
        digest,
        len(labelled),
    )
