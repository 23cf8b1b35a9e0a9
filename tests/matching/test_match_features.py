"""Constraints and features of hand-built pairs, checked against values worked out by hand."""

import math

import numpy as np
import pytest

from marketplace.matching.candidates import RuleConfig
from marketplace.matching.features import FEATURE_NAMES, hits_for_grid, hits_for_pairs
from marketplace.matching.index import MatchingIndex
from marketplace.matching.ranker import rank_needs, rank_products
from marketplace.matching.records import Need, Product

NEED = {
    "id": "n1",
    "title": "Solar park",
    "description": "光伏电站 solar park near Almaty",
    "country": "KZ",
    "sector": "solar",
    "technology": "solar_pv",
    "amount": 20e6,
    "currency": "USD",
    "instrument": "green_loan",
    "tenor_years": 10,
    "stage": "construction",
    "expected_tco2e": 30000,
    "taxonomy_activity": "4.1",
    "taxonomy_claims": ["second_party_opinion"],
}
FIT = {
    "id": "fit",
    "name": "KZ solar loan",
    "description": "Green loans for solar parks 光伏电站",
    "product_type": "green_loan",
    "ticket_min": 10e6,
    "ticket_max": 40e6,
    "currency": "USD",
    "countries": ["KZ", "UZ"],
    "sectors": ["solar"],
    "technologies": ["solar_pv"],
    "instruments": ["green_loan"],
    "tenor_min": 5,
    "tenor_max": 15,
    "stages": ["construction", "operation"],
    "min_tco2e": 20000,
    "taxonomy_requirements": ["eu_taxonomy_aligned", "icma_gbp_aligned"],
    "investor_id": 1,
}
FAR = {
    "id": "far",
    "name": "Vietnam wind bond",
    "product_type": "green_bond",
    "ticket_min": 100e6,
    "ticket_max": 200e6,
    "currency": "USD",
    "countries": ["VN"],
    "sectors": ["wind"],
    "investor_id": 2,
}
OPEN = {"id": "open", "name": "Anything green"}


def build(*products, need=NEED):
    needs = [Need.from_dict(need)]
    return MatchingIndex.build(needs, [Product.from_dict(p) for p in products]), needs[0]


def features_of(index, need_row=0, product_row=0):
    from marketplace.matching.candidates import Pair
    from marketplace.matching.features import compute_features

    rows_n, rows_p = np.array([need_row]), np.array([product_row])
    hits, text = hits_for_pairs(index, rows_n, rows_p)
    pair = Pair(
        index.needs.side.take(rows_n),
        index.products.side.take(rows_p),
        hits,
        text,
        dict.fromkeys(("product_rate", "product_log_n", "investor_sector_rate"), np.zeros(1)),
    )
    X, parts = compute_features(pair, RuleConfig())
    return dict(zip(FEATURE_NAMES, X[0], strict=True)), parts


def test_hand_computed_features_of_a_good_fit():
    values, parts = features_of(build(FIT)[0])
    expected = {
        "currency_ok": 1,
        "ticket_in_range": 1,
        "ticket_in_tolerance": 1,
        "ticket_known": 1,
        "log_amount_to_min": math.log(2),
        "log_amount_to_max": math.log(0.5),
        "ticket_position": 0.5,
        "tenor_in_range": 1,
        "tenor_gap_years": 0,
        "instrument_match": 1,
        "instrument_open": 0,
        "need_side_fit": 1.0,
        "log10_amount_usd": math.log10(20e6),
        "country_match": 1,
        "region_match": 0,
        "geo_open": 0,
        "sector_match": 1,
        "technology_match": 1,
        "sector_open": 0,
        "stage_match": 1,
        "stage_open": 0,
        "taxonomy_share": 0.5,
        "impact_ok": 1,
        "log_impact_ratio": math.log(30001 / 20001),
        "log_tco2e_per_musd": math.log1p(1500),
        "product_side_fit": 0.9,
        "missed_constraints": 1,
        "rule_score": 2 * 0.9 / 1.9,
    }
    for name, value in expected.items():
        assert values[name] == pytest.approx(value), name
    assert 0 < values["text_cosine"] <= 1
    assert [c for c, ok in parts["met"].items() if not ok[0]] == ["taxonomy"]


def test_product_outside_country_and_ticket_misses_both_and_sinks():
    values, parts = features_of(build(FAR)[0])
    missed = {c for c, ok in parts["met"].items() if not ok[0]}
    assert {"country", "ticket", "sector"} <= missed
    assert values["rule_score"] < 0  # not a candidate: below every candidate's score


def test_near_miss_on_ticket_is_flagged_not_excluded():
    near = dict(FIT, ticket_max=18e6, taxonomy_requirements=[])
    values, parts = features_of(build(near)[0])
    assert values["ticket_in_range"] == 0 and values["ticket_in_tolerance"] == 1
    assert parts["met"]["ticket"][0] and parts["graded"]["ticket"][0] == 0.5


def test_open_mandate_meets_every_constraint():
    values, parts = features_of(build(OPEN)[0])
    assert all(bool(ok[0]) for ok in parts["met"].values())
    assert values["geo_open"] == 1 and values["sector_open"] == 1 and values["ticket_known"] == 0


def test_unknown_need_currency_misses_currency():
    index, _ = build(FIT, need=dict(NEED, currency="ZZZ"))
    _, parts = features_of(index)
    assert not parts["met"]["currency"][0]


def test_region_mandate_matches_through_the_country_list():
    values, parts = features_of(
        build(dict(FIT, countries=[], regions=["Europe & Central Asia"]))[0]
    )
    assert values["region_match"] == 1 and parts["met"]["country"][0]


def test_single_query_grid_and_pair_paths_agree():
    index, need = build(FIT, FAR, OPEN)
    ranking = rank_products(index, need, limit=3)
    hits, text = hits_for_grid(index, np.array([0]))
    for position, row in enumerate(ranking.rows):
        values, _ = features_of(index, 0, row)
        assert np.allclose(ranking.features[position], list(values.values()))
        assert text["text"][0, row] == pytest.approx(values["text_cosine"])
        assert hits["country"][0, row] == values["country_match"]


def test_both_directions_rank_the_fit_first():
    index, need = build(FAR, dict(FIT, taxonomy_requirements=["eu_taxonomy_aligned"]), OPEN)
    assert index.products.records[rank_products(index, need).rows[0]].id == "fit"
    product = index.products.records[1]
    assert index.needs.records[rank_needs(index, product).rows[0]].id == "n1"
