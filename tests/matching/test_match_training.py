"""Training, evaluation contract, and the learned ranker beating rules on held-out needs."""

import json

import numpy as np
import pytest

from marketplace.matching.evaluate import evaluate
from marketplace.matching.simulate import build_index, logged_dataset, simulate_rounds
from marketplace.matching.stats import out_of_fold_rates
from marketplace.matching.synthetic import main as synthetic_main
from marketplace.matching.synthetic import write_jsonl
from marketplace.matching.train import decisions_from, should_activate, train

CONTRACT = {"ndcg@10", "recall@10", "mrr", "auc"}


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    synthetic_main(
        [
            "--needs",
            "150",
            "--products",
            "80",
            "--decisions",
            "2500",
            "--seed",
            "2",
            "--out",
            str(path),
        ]
    )
    return path


@pytest.fixture(scope="module")
def evaluated(small_file):
    return evaluate(small_file, folds=3, seed=0, progress=False, compare_learners=True)


def test_evaluate_returns_the_contract_keys(evaluated):
    result = evaluated
    assert result["needs_evaluated"] > 50
    for method in ("learned", "random", "popularity", "rules", "tfidf"):
        assert set(result[method]) == CONTRACT
        assert all(0 <= v <= 1 for v in result[method].values())
    assert set(result["learned_minus_rules_ndcg@10"]) == {"mean", "ci95"}
    assert {"needs", "products", "decisions", "folds", "seed"} <= set(result["data"])
    assert isinstance(result["seconds"], float)
    json.dumps(result)


def test_evaluate_is_deterministic(small_file, evaluated):
    # Also: comparing the learners changes nothing of the default model's figures.
    assert evaluate(small_file, folds=3, seed=0, progress=False)["learned"] == evaluated["learned"]


def test_evaluate_tolerates_odd_records(tmp_path):
    lines = [
        {"type": "need", "id": 1, "country": "KZ", "amount": None, "currency": "ZZZ"},
        {"type": "need", "id": "two", "sector": "fusion", "tenor_years": "long"},
        {"type": "product", "id": 1, "countries": None, "ticket_min": "?", "regions": ["Mars"]},
        {"type": "product", "id": "p2"},
        {"type": "mystery", "id": 3},
        {"type": "decision", "need": 1, "product": 1, "accepted": True},
        {"type": "decision", "need": 1, "product": "p2", "accepted": False},
        {"type": "decision", "need": "two", "product": "p2", "accepted": True},
        {"type": "decision", "need": "two", "product": 1, "accepted": False},
        {"type": "decision", "need": 99, "product": 1, "accepted": True},
    ]
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    result = evaluate(path, folds=5, progress=False)
    assert result["needs_evaluated"] == 2 and set(result["rules"]) == CONTRACT


def test_ignored_suggestions_are_not_labels():
    needs, products, decisions = logged_dataset(30, 20, 300, seed=1)
    index = build_index(needs, products)
    ignored = [dict(d, accepted=None) for d in decisions[:50]]
    assert len(decisions_from(index, ignored + decisions[50:])) == len(decisions) - 50


def test_out_of_fold_rates_never_see_their_own_fold():
    product = np.array([0, 0, 0, 0])
    group = np.array([0, 0, 0, 0])
    accepted = np.array([1, 1, 0, 0])
    folds = np.array([0, 0, 1, 1])
    rates = out_of_fold_rates(product, group, accepted, folds)
    # Fold 0 sees only fold 1's two rejections (prior 0): (0 + 10·0) / (2 + 10) = 0.
    assert rates["product_rate"][:2] == pytest.approx([0, 0])
    assert rates["product_rate"][2:] == pytest.approx([1.0, 1.0])
    # Two decisions seen out of fold, scaled to the four a served model would count.
    assert rates["product_log_n"] == pytest.approx(np.log1p([4, 4, 4, 4]))


def test_a_served_model_is_calibrated_on_its_own_decision_counts():
    """The decision count feature is on the same scale in the fit and when serving: without
    the scaling, held-out probabilities fell short of the observed rate in every middle bin."""
    product = np.repeat(np.arange(3), 10)
    accepted = np.tile([1, 0], 15)
    folds = np.tile(np.arange(5), 6)
    rates = out_of_fold_rates(product, np.zeros(30, dtype=int), accepted, folds)
    assert rates["product_log_n"] == pytest.approx(np.log1p(np.full(30, 10.0)))


def test_should_activate_only_when_not_worse():
    assert should_activate({"ndcg@10": 0.3}, None)
    assert should_activate({"ndcg@10": 0.3}, {"ndcg@10": 0.3})
    assert not should_activate({"ndcg@10": 0.29}, {"ndcg@10": 0.3})


def test_train_compares_with_the_active_model(tmp_path):
    needs, products, decisions = logged_dataset(150, 80, 2500, seed=4)
    path = tmp_path / "d.jsonl"
    write_jsonl(path, needs, products, decisions)
    from marketplace.matching.evaluate import load_records

    records = load_records(path)
    first = train(*records, seed=0)
    assert first.activate and first.model is not None and len(first.data_hash) == 64
    second = train(*records, active=first.model, seed=0)
    assert second.active_metrics is not None and "ndcg@10" in second.metrics


def test_learned_beats_rules_after_a_few_rounds_on_held_out_needs():
    result = simulate_rounds(n_needs=400, n_products=150, rounds=3, seed=0)
    first, last = result["history"][0], result["history"][-1]
    # Good pairs are shown before near misses whatever the model says, so the model reorders
    # within tiers only: a smaller margin than over a free ranking, but a steady one.
    assert last["learned"] > last["rules"] + 0.005 and last["learned"] > first["learned"]
    assert all(h["learned"] >= h["rules"] - 0.02 for h in result["history"])


def test_evaluate_reports_calibration_of_the_held_out_decisions(evaluated):
    calibration = evaluated["calibration"]
    rate = calibration["accepted_rate"]
    assert 0 < calibration["brier"] < rate * (1 - rate)  # better than always saying the base rate
    assert 0 <= calibration["ece"] <= 0.1 and len(calibration["ece_per_fold"]) == 3
    assert len(calibration["bins"]) == 10
    assert sum(b["count"] for b in calibration["bins"]) == calibration["decisions"]
    assert calibration["decisions"] == evaluated["data"]["decisions"]
    assert set(calibration["methods"]) <= {"isotonic", "sigmoid"}


def test_evaluate_compares_with_and_without_track_records_and_both_learners(evaluated):
    assert evaluated["data"]["products_with_track_record"] > 0
    comparison = evaluated["track_record"]
    assert comparison["with"] == evaluated["learned"]
    for report in (
        comparison["with_minus_without"],
        evaluated["learners"]["boosting_minus_logistic"],
    ):
        assert set(report) == {"ndcg@10", "recall@10"}
        for difference in report.values():
            low, high = difference["ci95"]
            assert low <= difference["mean"] <= high
    assert evaluated["learners"]["kept"] == "logistic"
    assert evaluated["learners"]["logistic"] == evaluated["learned"]
    assert set(evaluated["learners"]["boosting"]) == CONTRACT


def test_evaluate_without_track_records_has_no_track_comparison():
    needs, products, decisions = logged_dataset(60, 40, 900, seed=8, track_records=False)
    result = evaluate([*needs, *products, *decisions], folds=2, progress=False)
    assert "track_record" not in result and "learners" not in result
    assert result["data"]["products_with_track_record"] == 0 and "calibration" in result
