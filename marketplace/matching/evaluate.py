"""Offline evaluation: grouped cross-validation by need of learned ranker against four baselines."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold
from tqdm import tqdm

from .candidates import RuleConfig
from .compare import (
    OTHER_LEARNER,
    calibration_summary,
    fold_models,
    held_out_probabilities,
    learner_report,
    track_report,
)
from .index import MatchingIndex
from .metrics import METRICS, bootstrap_difference, jitter, per_need, summarise
from .ranker import grid_scores
from .records import DEFAULT_USD_RATES, Need, Product
from .train import Decisions, decisions_from, relevant_by_need

METHODS = ("learned", "random", "popularity", "rules", "tfidf")
BATCH = 100  # held-out needs scored against every product at once


def read_lines(source) -> Iterable[dict]:
    """Records from a JSON-lines path, an iterable of lines, or an iterable of dicts."""
    if isinstance(source, str | Path):
        with open(source, encoding="utf-8") as handle:
            yield from (json.loads(line) for line in handle if line.strip())
        return
    for item in source:
        if isinstance(item, dict):
            yield item
        elif str(item).strip():
            yield json.loads(item)


def load_records(source, usd_rates: dict[str, float] = DEFAULT_USD_RATES):
    """Needs, products and decision dicts of a JSON-lines source (unknown types are skipped)."""
    needs, products, decisions = {}, {}, []
    for record in read_lines(source):
        kind = record.get("type")
        if kind == "need":
            needs[record["id"]] = Need.from_dict(record, usd_rates)
        elif kind == "product":
            products[record["id"]] = Product.from_dict(record, usd_rates)
        elif kind == "decision":
            decisions.append(record)
    return list(needs.values()), list(products.values()), decisions


def _fold_scores(index, models, needs, popularity, rng) -> dict[str, np.ndarray]:
    model = models["learned"]
    grid = grid_scores(index, needs, model, model.config if model else RuleConfig())
    shape = grid["rules"].shape
    scores = {
        "learned": grid["learned"] if model else grid["stage1"],
        "random": rng.random(shape),
        "popularity": np.broadcast_to(popularity, shape),
        "rules": grid["rules"],
        "tfidf": grid["tfidf"],
    }
    for name, variant in models.items():
        if name != "learned":
            scores[name] = (
                grid_scores(index, needs, variant, variant.config)["learned"]
                if variant
                else scores["learned"]
            )
    return scores


def _evaluate_fold(index, train: Decisions, test: Decisions, seed: int, state: dict) -> int:
    """Add the per-need metrics and held-out probabilities of one fold to state; returns how
    many needs it evaluated."""
    models = fold_models(index, train, seed, **state["variants"])
    if any(m is None for m in models.values()):
        models = dict.fromkeys(models)  # cold start in this fold: stage 1 stands for every variant
    popularity = np.bincount(train.product_rows[train.accepted], minlength=len(index.products))
    needs, relevant = relevant_by_need(test)
    rng, values = np.random.default_rng(seed), state["values"]
    for start in range(0, needs.size, BATCH):
        scores = _fold_scores(index, models, needs[start : start + BATCH], popularity, rng)
        for method, matrix in scores.items():
            metrics = per_need(jitter(matrix, rng), relevant[start : start + BATCH])
            for name in METRICS:
                values.setdefault(method, {n: [] for n in METRICS})[name].append(metrics[name])
    model = models["learned"]
    if model is not None:
        state["calibration"].append((held_out_probabilities(index, model, test), test.accepted))
        state["methods"].append(model.calibrator.method if model.calibrator else None)
    return int(needs.size)


def _splits(decisions: Decisions, folds: int, seed: int) -> list:
    """Fold indices with every decision of a need in the same fold."""
    groups = np.unique(decisions.need_rows).size
    if groups < 2:
        return []
    splitter = GroupKFold(n_splits=min(folds, groups), shuffle=True, random_state=seed)
    return list(splitter.split(decisions.need_rows, groups=decisions.need_rows))


def _reports(state: dict, seed: int) -> dict:
    """Every method's metrics, learned − rules, the calibration of the learned model, and the
    variants fitted beside it (when they were)."""
    values = state["values"]
    out = {m: summarise(values[m]) for m in METHODS}
    learned, rules = (
        np.concatenate(values[m]["ndcg@10"] or [np.zeros(0)]) for m in ("learned", "rules")
    )
    out["learned_minus_rules_ndcg@10"] = bootstrap_difference(learned, rules, seed)
    out["calibration"] = calibration_summary(state["calibration"], state["methods"])
    if OTHER_LEARNER in values:
        out["learners"] = learner_report(values, seed)
    if "without_track" in values:
        out["track_record"] = track_report(values, seed)
    return out


def evaluate(
    source,
    folds: int = 5,
    seed: int = 0,
    *,
    usd_rates: dict[str, float] = DEFAULT_USD_RATES,
    progress: bool = True,
    compare_learners: bool = False,
) -> dict:
    """Cross-validated (grouped by need) NDCG@10, recall@10, MRR and AUC of ranker and baselines;
    calibration of its probabilities; when products carry track records, the ranker without
    them; with `compare_learners`, the other learner too (a boosted model: slower)."""
    started = time.perf_counter()
    needs, products, raw = load_records(source, usd_rates)
    index = MatchingIndex.build(needs, products, usd_rates=usd_rates, seed=seed, progress=progress)
    decisions = decisions_from(index, raw)
    state = {
        "values": {m: {name: [] for name in METRICS} for m in METHODS},
        "variants": {"learners": compare_learners, "track": any(p.track_record for p in products)},
        "calibration": [],
        "methods": [],
    }
    evaluated = 0
    for fold, (fit_rows, test_rows) in enumerate(
        tqdm(_splits(decisions, folds, seed), desc="folds", disable=not progress)
    ):
        evaluated += _evaluate_fold(
            index, decisions.subset(fit_rows), decisions.subset(test_rows), seed + fold, state
        )
    result = {"needs_evaluated": evaluated} | _reports(state, seed)
    result["data"] = {
        "needs": len(needs),
        "products": len(products),
        "decisions": len(decisions),
        "products_with_track_record": sum(bool(p.track_record) for p in products),
        "folds": folds,
        "seed": seed,
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    if progress:
        print(f"evaluated {evaluated} needs in {result['seconds']} s", file=sys.stderr)
    return result
