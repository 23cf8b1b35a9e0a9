"""Both learners: explanations exact (logistic) or honestly approximate (boosting), model files
that keep the calibrator and the learner, and files of other features refused."""

import numpy as np
import pytest

from marketplace.matching.features import FEATURE_NAMES
from marketplace.matching.learners import acceptance
from marketplace.matching.simulate import build_index, logged_dataset
from marketplace.matching.store import IncompatibleModelError, load, read_metadata, save
from marketplace.matching.suggest import suggest_for_need
from marketplace.matching.train import decisions_from, fit_model, pair_features

KEYS = {"feature", "head", "value", "contribution"}


@pytest.fixture(scope="module")
def fitted():
    needs, products, decisions = logged_dataset(150, 100, 3000, seed=9)
    index = build_index(needs, products)
    labelled = decisions_from(index, decisions)
    models = {name: fit_model(index, labelled, learner=name) for name in ("logistic", "boosting")}
    return index, models, pair_features(index, models["logistic"], labelled.subset(slice(0, 50)))


def _logit(p):
    return np.log(p) - np.log1p(-p)


def test_logistic_contributions_are_exact(fitted):
    _, models, X = fitted
    model = models["logistic"]
    assert model.explanation_method == "exact"
    x = X[0]
    terms = model.contributions(x, limit=len(FEATURE_NAMES) * 2)
    for name, head in model.heads.items():
        total = sum(t["contribution"] for t in terms if t["head"] == name)
        logit = _logit(head.predict_proba(x[model.columns(name)].reshape(1, -1))[0, 1])
        assert total + head[-1].intercept_[0] == pytest.approx(logit)
    assert all(set(t) == KEYS for t in terms)


def test_boosting_contributions_are_approximate_and_zero_at_the_median(fitted):
    _, models, X = fitted
    model = models["boosting"]
    assert model.explanation_method == "approximate" and set(model.heads) == {"joint"}
    x = X[1].copy()
    j = FEATURE_NAMES.index("text_cosine")
    x[j] = model.medians[j]
    terms = model.contributions(x, limit=len(FEATURE_NAMES))
    assert all(set(t) == KEYS and t["head"] == "joint" for t in terms)
    assert next(t for t in terms if t["feature"] == "text_cosine")["contribution"] == 0
    assert any(t["contribution"] != 0 for t in terms)
    assert abs(terms[0]["contribution"]) >= abs(terms[-1]["contribution"])


def test_suggestions_of_either_learner_carry_probabilities(fitted):
    index, models, _ = fitted
    for model in models.values():
        pages = (
            suggest_for_need(index, n, model, k=10, explore=False) for n in index.needs.records
        )
        shown = next(page for page in pages if page)
        X = np.array([[s.features[n] for n in FEATURE_NAMES] for s in shown])
        assert ((model.probability(X) >= 0) & (model.probability(X) <= 1)).all()
        assert shown[0].explanation["contributions"]
        assert model.probability(np.empty((0, len(FEATURE_NAMES)))).shape == (0,)


@pytest.mark.parametrize("learner", ["logistic", "boosting"])
def test_model_files_keep_the_learner_and_the_calibrator(tmp_path, fitted, learner):
    _, models, X = fitted
    model = models[learner]
    path = save(model, tmp_path, f"v-{learner}")
    meta = read_metadata(path)
    assert meta["learner"] == learner and meta["calibration"] == model.calibrator.method
    assert meta["explanation_method"] == model.explanation_method
    loaded = load(path)
    assert loaded.learner == learner and loaded.calibrator.method == model.calibrator.method
    assert np.array_equal(loaded.probability(X), model.probability(X))


def test_a_model_file_of_other_features_is_refused(tmp_path, fitted):
    _, models, _ = fitted
    model = models["logistic"]
    older = type(model)(**{**vars(model), "feature_names": FEATURE_NAMES[:-8]})
    path = save(older, tmp_path, "v-old")
    with pytest.raises(IncompatibleModelError, match="track_recency"):
        load(path)


def test_rates_of_a_gone_model_are_never_read_by_a_new_one(fitted):
    """A new model may get the id of a freed one; it must not read that model's cached rates."""
    index, models, _ = fitted
    first, second = models["logistic"], models["boosting"]
    stale = first.aligned(index)
    index.cache[("rates", id(second))] = index.cache[("rates", id(first))]  # as if id reused
    assert second.aligned(index) is not stale
    assert second.aligned(index) is second.aligned(index)  # and still computed once


def test_logistic_heads_score_in_numpy_exactly_as_sklearn(fitted):
    _, models, features = fitted
    model = models["logistic"]
    for name, head in model.heads.items():
        X = features[:, model.columns(name)]
        np.testing.assert_allclose(acceptance(head, X), head.predict_proba(X)[:, 1], atol=1e-12)
