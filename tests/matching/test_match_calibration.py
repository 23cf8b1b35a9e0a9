"""Calibrated probabilities: the scale people see matches how often brokers accept."""

import numpy as np
import pytest
from sklearn.model_selection import GroupShuffleSplit

from marketplace.matching.calibration import (
    Calibrator,
    brier,
    calibration_bins,
    choose_calibrator,
    expected_calibration_error,
    fit_calibrator,
)
from marketplace.matching.simulate import build_index, logged_dataset
from marketplace.matching.train import decisions_from, fit_model, pair_features

ENOUGH = 400  # pairs in a bin (from ~100 needs): enough to read its observed rate within points


@pytest.fixture(scope="module")
def held_out():
    """A model fitted on 70 % of the needs, and its probabilities on the other 30 %."""
    needs, products, decisions = logged_dataset(3000, 300, 75000, seed=21)
    index = build_index(needs, products)
    labelled = decisions_from(index, decisions)
    split = GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
    fit_rows, test_rows = next(split.split(labelled.need_rows, groups=labelled.need_rows))
    model = fit_model(index, labelled.subset(fit_rows))
    test = labelled.subset(test_rows)
    X = pair_features(index, model, test)
    return model, X, test.accepted


def test_each_well_filled_bin_is_within_five_points_of_the_observed_rate(held_out):
    model, X, accepted = held_out
    bins = calibration_bins(model.probability(X), accepted)
    filled = [b for b in bins if b["count"] >= ENOUGH]
    assert len(filled) >= 6
    for b in filled:
        assert b["mean_predicted"] == pytest.approx(b["observed_rate"], abs=0.05), b
    assert expected_calibration_error(model.probability(X), accepted) <= 0.05


def test_probability_is_a_non_decreasing_map_of_the_ranking_score(held_out):
    model, X, _ = held_out
    score, probability = model.predict(X), model.probability(X)
    assert ((probability >= 0) & (probability <= 1)).all()
    order = np.argsort(score, kind="stable")
    assert (np.diff(probability[order]) >= -1e-12).all()
    assert model.calibrator is not None and model.calibrator.method in ("isotonic", "sigmoid")


def test_brier_and_ece_by_hand():
    p, y = np.array([0.05, 0.15, 0.95, 0.95]), np.array([0, 1, 1, 0])
    assert brier(p, y) == pytest.approx((0.05**2 + 0.85**2 + 0.05**2 + 0.95**2) / 4)
    # Bins: [0, .1) → 0.05 vs 0; [.1, .2) → 0.15 vs 1; [.9, 1] → 0.95 vs 0.5.
    assert expected_calibration_error(p, y) == pytest.approx((0.05 + 0.85 + 2 * 0.45) / 4)
    bins = calibration_bins(p, y)
    assert [b["count"] for b in bins] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins[2]["mean_predicted"] is None and bins[9]["observed_rate"] == 0.5


def test_a_sigmoid_that_would_reverse_the_order_falls_back_to_isotonic():
    scores = np.linspace(0.1, 0.9, 200)
    accepted = (scores < 0.5).astype(int)  # higher score, fewer accepts
    calibrated = fit_calibrator(scores, accepted, "sigmoid")
    assert calibrated.method == "isotonic"
    assert (np.diff(calibrated(scores)) >= 0).all()


def test_choose_calibrator_prefers_the_lower_held_out_brier():
    rng = np.random.default_rng(0)
    scores = rng.random(4000)
    truth = 1 / (1 + np.exp(-(3 * (scores - 0.5))))  # a smooth logistic truth
    accepted = rng.random(4000) < truth
    chosen = choose_calibrator(scores, accepted, np.arange(4000) // 4)
    assert isinstance(chosen, Calibrator)
    assert chosen.method == "sigmoid"
    assert np.abs(chosen(scores) - truth).mean() < 0.05
