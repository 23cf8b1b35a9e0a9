"""Suggestions: exclusion of misfits, exploration slots, determinism, explanations."""

import json

import numpy as np
import pytest

from marketplace.matching.index import MatchingIndex
from marketplace.matching.records import Need, Product
from marketplace.matching.simulate import build_index, logged_dataset
from marketplace.matching.suggest import plan_slots, suggest_for_need, suggest_for_product
from marketplace.matching.train import decisions_from, fit_model


@pytest.fixture(scope="module")
def world():
    needs, products, decisions = logged_dataset(120, 150, 2500, seed=3)
    index = build_index(needs, products)
    return index, fit_model(index, decisions_from(index, decisions))


def test_plan_has_two_exploration_slots_in_ten_from_ranks_11_to_100():
    slots = plan_slots(150, 10, seed=0, query_id="n1")
    explored = [(i, p) for i, flag, p in slots if flag]
    assert len(slots) == 10 and len(explored) == 2
    assert all(10 <= i < 100 and p == pytest.approx(2 / 90) for i, p in explored)
    assert [i for i, flag, _ in slots if not flag] == list(range(8))


def test_plan_is_deterministic_under_a_seed():
    assert plan_slots(150, 10, 4, "n1") == plan_slots(150, 10, 4, "n1")
    draws = {tuple(plan_slots(150, 10, seed, "n1")) for seed in range(6)}
    assert len(draws) > 1


def test_plan_without_exploration_or_a_short_list():
    assert all(not flag for _, flag, _ in plan_slots(150, 10, 0, 1, explore=False))
    assert [i for i, _, _ in plan_slots(5, 10, 0, 1)] == [0, 1, 2, 3, 4]


def test_suggestions_are_json_serialisable_and_explained(world):
    index, model = world
    shown = suggest_for_need(index, index.needs.records[0], model, k=10, seed=1)
    assert [s.rank for s in shown] == list(range(1, 11))
    assert sum(s.is_exploration for s in shown) == 2
    first = shown[0]
    json.dumps([vars(s) for s in shown])
    explanation = first.explanation
    assert explanation["stage"] == "learned"
    assert set(explanation["constraints_met"]) | set(explanation["constraints_missed"]) >= {
        "country",
        "ticket",
        "tenor",
    }
    assert all(
        {"feature", "head", "value", "contribution"} <= set(c) for c in explanation["contributions"]
    )
    assert isinstance(explanation["shared_terms"], list)


def test_same_seed_same_page(world):
    index, model = world
    need = index.needs.records[5]
    pages = [suggest_for_need(index, need, model, seed=9) for _ in range(2)]
    assert [(s.id, s.propensity) for s in pages[0]] == [(s.id, s.propensity) for s in pages[1]]


def test_cold_start_uses_stage_one(world):
    index, _ = world
    shown = suggest_for_need(index, index.needs.records[0], None, explore=False)
    assert shown[0].explanation["stage"] == "rules"
    assert [s.score for s in shown] == sorted((s.score for s in shown), reverse=True)


def test_product_direction(world):
    index, model = world
    shown = suggest_for_product(index, index.products.records[0], model, k=10)
    assert len(shown) == 10 and all(s.id in index.needs.row_of for s in shown)


def test_misfit_product_is_excluded_from_the_top_and_flagged():
    need = Need.from_dict(
        {
            "id": 1,
            "country": "PK",
            "amount": 5e7,
            "currency": "USD",
            "sector": "wind",
            "instrument": "green_loan",
            "tenor_years": 12,
        }
    )
    good = [
        Product.from_dict(
            {
                "id": f"g{i}",
                "countries": ["PK"],
                "sectors": ["wind"],
                "ticket_min": 1e7,
                "ticket_max": 1e8,
                "currency": "USD",
            }
        )
        for i in range(12)
    ]
    misfit = Product.from_dict(
        {"id": "bad", "countries": ["VN"], "ticket_min": 5e8, "ticket_max": 9e8, "currency": "USD"}
    )
    index = MatchingIndex.build([need], [misfit, *good])
    shown = suggest_for_need(index, need, explore=False, k=13)
    assert [s.id for s in shown][-1] == "bad"
    assert {"country", "ticket"} <= set(shown[-1].explanation["constraints_missed"])
    assert all(not s.explanation["constraints_missed"] for s in shown[:-1])


def test_new_need_not_in_the_index_can_be_ranked(world):
    index, model = world
    need = Need.from_dict(
        {
            "id": "fresh",
            "title": "风电项目",
            "country": "KZ",
            "sector": "wind",
            "amount": 3e7,
            "currency": "CNY",
        }
    )
    shown = suggest_for_need(index, need, model, k=5)
    assert len(shown) == 5 and np.isfinite([s.score for s in shown]).all()
