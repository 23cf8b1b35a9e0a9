"""Suggestions: exclusion of misfits, exploration slots, determinism, explanations."""

import json

import numpy as np
import pytest

from marketplace.matching.diagnose import diagnose_need, diagnose_product
from marketplace.matching.index import MatchingIndex
from marketplace.matching.ranker import rank_products
from marketplace.matching.records import Need, Product
from marketplace.matching.simulate import build_index, logged_dataset
from marketplace.matching.suggest import plan_slots, suggest_for_need, suggest_for_product
from marketplace.matching.train import decisions_from, fit_model


@pytest.fixture(scope="module")
def world():
    needs, products, decisions = logged_dataset(120, 600, 3000, seed=3)
    index = build_index(needs, products)
    return index, fit_model(index, decisions_from(index, decisions))


def _best_served(index, direction="need"):
    """The need (or product) with the most good matches on the other side."""
    if direction == "need":
        return max(index.needs.records, key=lambda r: diagnose_need(index, r)["good"])
    return max(index.products.records, key=lambda r: diagnose_product(index, r)["good"])


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


def test_plan_of_five_explores_one_slot_beyond_the_fifth():
    slots = plan_slots(150, 5, seed=0, query_id="n1")
    explored = [(i, p) for i, flag, p in slots if flag]
    assert len(slots) == 5 and len(explored) == 1
    assert all(5 <= i < 100 and p == pytest.approx(1 / 95) for i, p in explored)


def test_suggestions_are_json_serialisable_and_explained(world):
    index, model = world
    need = _best_served(index)
    counts = diagnose_need(index, need)
    shown = suggest_for_need(index, need, model, k=5, seed=1)
    good = [s for s in shown if s.tier == "good"]
    near = [s for s in shown if s.tier == "near_miss"]
    assert shown == good + near  # near misses never come before a good suggestion
    assert len(good) == min(5, counts["good"]) and len(near) == min(5, counts["near_miss"])
    assert [s.rank for s in good] == list(range(1, len(good) + 1))
    assert [s.rank for s in near] == list(range(1, len(near) + 1))
    assert all(0 <= s.probability <= 1 for s in shown)
    json.dumps([vars(s) for s in shown])
    explanation = shown[0].explanation
    assert explanation["stage"] == "learned" and explanation["tier"] == "good"
    assert not explanation["near_miss_on"] and explanation["reasons"]
    assert set(explanation["constraints_met"]) >= {"country", "ticket", "sector", "currency"}
    assert all(
        {"feature", "head", "value", "contribution"} <= set(c) for c in explanation["contributions"]
    )
    assert all(s.explanation["near_miss_on"] for s in near)
    assert isinstance(explanation["shared_terms"], list)


def test_same_seed_same_page(world):
    index, model = world
    need = _best_served(index)
    pages = [suggest_for_need(index, need, model, seed=9) for _ in range(2)]
    assert [(s.id, s.propensity) for s in pages[0]] == [(s.id, s.propensity) for s in pages[1]]


def test_cold_start_uses_stage_one(world):
    index, _ = world
    shown = suggest_for_need(index, _best_served(index), None, explore=False)
    good = [s.score for s in shown if s.tier == "good"]
    assert shown[0].explanation["stage"] == "rules" and shown[0].probability is None
    assert good and good == sorted(good, reverse=True)


def test_product_direction(world):
    index, model = world
    product = _best_served(index, "product")
    counts = diagnose_product(index, product)
    shown = suggest_for_product(index, product, model, k=5)
    assert sum(s.tier == "good" for s in shown) == min(5, counts["good"]) > 0
    assert all(s.id in index.needs.row_of for s in shown)


def test_misfits_are_excluded_and_near_misses_shown_apart():
    need = Need.from_dict(
        {
            "id": 1,
            "country": "PK",
            "amount": 5e7,
            "currency": "USD",
            "sector": "wind",
            "instrument": "guarantee",
            "tenor_years": 12,
        }
    )
    fit = {"countries": ["PK"], "sectors": ["wind"], "ticket_min": 1e7, "ticket_max": 1e8}
    good = [Product.from_dict({"id": f"g{i}", "currency": "USD", **fit}) for i in range(3)]
    misfits = [
        Product.from_dict({"id": "elsewhere", "currency": "USD", **fit, "countries": ["VN"]}),
        Product.from_dict({"id": "huge", "currency": "USD", **fit, "ticket_min": 2e8}),
        Product.from_dict({"id": "solar", "currency": "USD", **fit, "sectors": ["solar"]}),
        Product.from_dict({"id": "odd-money", "currency": "XYZ", **fit}),
        Product.from_dict({"id": "short", "currency": "USD", **fit, "tenor_max": 5}),
    ]
    near = [
        Product.from_dict({"id": "a-bit-small", "currency": "USD", **fit, "ticket_max": 4.5e7}),
        Product.from_dict({"id": "loan", "currency": "USD", **fit, "instruments": ["green_loan"]}),
        Product.from_dict({"id": "ten-years", "currency": "USD", **fit, "tenor_max": 11}),
    ]
    index = MatchingIndex.build([need], [*misfits, *near, *good])
    shown = suggest_for_need(index, need, explore=False, k=5)
    assert {s.id for s in shown if s.tier == "good"} == {"g0", "g1", "g2"}
    by_id = {s.id: s for s in shown if s.tier == "near_miss"}
    assert set(by_id) == {"a-bit-small", "loan", "ten-years"}
    codes = {i: [r["code"] for r in s.explanation["reasons"]] for i, s in by_id.items()}
    assert codes["a-bit-small"][0] == "ticket_outside"
    assert codes["loan"][0] == "instrument_differs"
    assert codes["ten-years"][0] == "tenor_outside"
    assert by_id["loan"].explanation["reasons"][0]["offered"] == ["green_loan"]
    counts = diagnose_need(index, need)
    assert (counts["good"], counts["near_miss"], counts["excluded"]) == (3, 3, 5)
    assert counts["excluded_by"] == {
        "country": 1,
        "ticket": 1,
        "sector": 1,
        "currency": 1,
        "tenor": 1,
    }


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
    assert shown and all(0 <= s.probability <= 1 for s in shown)
    assert np.isfinite([s.score for s in shown]).all()


def test_a_need_nothing_fits_gets_no_suggestions_and_a_reason(world):
    index, model = world
    need = Need.from_dict({"id": "odd", "amount": 5e7, "currency": "XYZ", "sector": "wind"})
    assert suggest_for_need(index, need, model) == []
    counts = diagnose_need(index, need)
    assert counts["good"] == counts["near_miss"] == 0 and counts["main"] == "currency"


def test_large_table_path_keeps_the_tiers_and_most_of_the_order(world):
    """Through the text summaries (what a table of EMBED_FROM rows or more uses), rankings hold
    the same good rows in the same tiers (near misses beyond the top 20 may differ), and mostly
    the same best ones."""
    exact, model = world
    needs, products = exact.needs.records, exact.products.records
    summarised = MatchingIndex.build(needs, products, embed_from=0)
    assert summarised.products.embedding is not None
    overlaps = []
    for need in needs[:40]:
        a = rank_products(exact, need, model, limit=300)
        b = rank_products(summarised, need, model, limit=300)
        tier_a = dict(zip(a.rows.tolist(), a.tiers.tolist(), strict=True))
        tier_b = dict(zip(b.rows.tolist(), b.tiers.tolist(), strict=True))
        assert all(tier_a[row] == tier for row, tier in tier_b.items() if row in tier_a)
        if (a.tiers == 0).sum() < 300:  # every good row fits in the ranking: the same ones
            assert set(a.rows[a.tiers == 0]) == set(b.rows[b.tiers == 0])
        good_a, good_b = a.rows[a.tiers == 0][:10], b.rows[b.tiers == 0][:10]
        if good_a.size:
            overlaps.append(len(set(good_a) & set(good_b)) / good_a.size)
    assert np.mean(overlaps) > 0.8
