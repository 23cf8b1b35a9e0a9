"""Variants of the learned model that `evaluate` fits in the same folds as the default one:
the other learner, and the default learner without the track-record features."""

from __future__ import annotations

import numpy as np

from .calibration import calibration_report, expected_calibration_error
from .learners import LEARNERS
from .metrics import bootstrap_difference, summarise
from .track import TRACK_FEATURES
from .train import DEFAULT_LEARNER, Decisions, fit_model, pair_features

OTHER_LEARNER = next(name for name in LEARNERS if name != DEFAULT_LEARNER)
COMPARED = ("ndcg@10", "recall@10")


def fold_models(index, train: Decisions, seed: int, *, learners: bool, track: bool) -> dict:
    """The default model (calibrated) and the variants to compare with it (uncalibrated)."""
    models = {"learned": fit_model(index, train, seed=seed)}
    if learners:
        models[OTHER_LEARNER] = fit_model(
            index, train, seed=seed, learner=OTHER_LEARNER, calibrate=False
        )
    if track:
        models["without_track"] = fit_model(
            index, train, seed=seed, exclude=TRACK_FEATURES, calibrate=False
        )
    return models


def held_out_probabilities(index, model, test: Decisions) -> np.ndarray:
    """The model's calibrated chance of acceptance of each held-out decision."""
    return model.probability(pair_features(index, model, test))


def _differences(values: dict, a: str, b: str, seed: int) -> dict:
    out = {}
    for name in COMPARED:
        first, second = (np.concatenate(values[m][name] or [np.zeros(0)]) for m in (a, b))
        out[name] = bootstrap_difference(first, second, seed)
    return out


def learner_report(values: dict, seed: int) -> dict:
    """Both learners' metrics, other − default with 95 % intervals, and which one is kept."""
    differences = _differences(values, OTHER_LEARNER, "learned", seed)
    return {
        DEFAULT_LEARNER: summarise(values["learned"]),
        OTHER_LEARNER: summarise(values[OTHER_LEARNER]),
        f"{OTHER_LEARNER}_minus_{DEFAULT_LEARNER}": differences,
        "kept": DEFAULT_LEARNER,
    }


def track_report(values: dict, seed: int) -> dict:
    """The default model with and without the track-record features, with 95 % intervals."""
    return {
        "with": summarise(values["learned"]),
        "without": summarise(values["without_track"]),
        "with_minus_without": _differences(values, "learned", "without_track", seed),
    }


def calibration_summary(folds: list[tuple[np.ndarray, np.ndarray]], methods: list) -> dict:
    """Brier, ECE and bins over every fold's held-out decisions, ECE per fold, methods chosen."""
    probability = np.concatenate([p for p, _ in folds] or [np.zeros(0)])
    accepted = np.concatenate([a for _, a in folds] or [np.zeros(0)])
    report = calibration_report(probability, accepted)
    report["ece_per_fold"] = [expected_calibration_error(p, a) for p, a in folds]
    report["methods"] = methods
    return report
