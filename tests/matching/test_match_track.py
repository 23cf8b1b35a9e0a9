"""Track-record features: hand-worked pairs, the same values on every path, and a record without a
track record ranking exactly as if the features did not exist."""

import copy
import math
from datetime import UTC, datetime

import numpy as np
import pytest

from marketplace.matching import track
from marketplace.matching.experience import generate_market
from marketplace.matching.features import FEATURE_NAMES
from marketplace.matching.index import MatchingIndex
from marketplace.matching.ranker import grid_scores, rank_needs, rank_products
from marketplace.matching.records import Need, Product
from marketplace.matching.simulate import build_index, logged_dataset
from marketplace.matching.track import TRACK_FEATURES
from marketplace.matching.train import decisions_from, fit_model
from marketplace.matching.world import generate

NEED = {
    "id": "n1",
    "title": "Solar park near Almaty",
    "country": "KZ",
    "technology": "solar_pv",
    "amount": 20e6,
    "currency": "USD",
}
EXPERIENCED = {
    "id": "veteran",
    "name": "Central Asia solar loan",
    "investor_id": "bank-a",
    "track_record": [
        {
            "country": "KZ",
            "technology": "onshore_wind",
            "year": 2015,
            "amount_usd": 10e6,
            "co_financiers": ["newcomer", "ghost", "bank-a"],
        },
        {"country": "kz", "technology": "solar_pv", "year": 2020, "amount_usd": 40e6},
        {"country": "UZ", "technology": "solar_pv", "year": None, "amount_usd": None},
        {"country": None, "region": None, "technology": None, "sector": None, "year": 2024},
    ],
}
NEWCOMER = {"id": "newcomer", "name": "First green bond", "investor_id": "bank-b"}


def build(*products, need=NEED):
    needs = [Need.from_dict(need)]
    return MatchingIndex.build(needs, [Product.from_dict(p) for p in products]), needs[0]


def test_hand_worked_track_features_of_an_experienced_investor():
    index, need = build(EXPERIENCED, NEWCOMER)
    table = track.index_table(index)
    assert table.reference_year == datetime.now(UTC).year
    values = {k: float(v[0]) for k, v in track.for_need(index, need, np.array([0])).items()}
    expected = {
        "track_has_record": 1,
        "track_log_deals_country": math.log1p(2),  # two deals in KZ
        "track_log_deals_region": math.log1p(3),  # KZ and UZ are Europe & Central Asia
        "track_log_deals_technology": math.log1p(2),  # two solar_pv deals
        "track_log_deals_sector": math.log1p(2),  # solar through the technology
        # Relevant = same country or same sector: 2015 (KZ), 2020 (KZ, solar); 2024 is neither.
        "track_recency": 1 - (table.reference_year - 2020) / 20,
        "track_log_size_ratio": math.log(25e6 / 20e6),  # median of 10 and 40 million
        # "newcomer" is a product of the index; "ghost" is unknown; bank-a is the investor.
        "track_log_co_financiers": math.log1p(1),
    }
    assert values == pytest.approx(expected)


def test_no_track_record_and_unknown_need_values_give_zeros():
    index, need = build(EXPERIENCED, NEWCOMER)
    assert all(v[0] == 0 for v in track.for_need(index, need, np.array([1])).values())
    stranger = Need.from_dict({"id": "x", "country": "ZZ", "technology": "fusion"})
    values = track.for_need(index, stranger, np.array([0]))
    assert values["track_has_record"][0] == 1
    assert values["track_log_deals_country"][0] == 0 and values["track_recency"][0] == 0
    assert values["track_log_size_ratio"][0] == 0  # the need's amount is unknown


def test_recency_fades_to_zero_after_twenty_years():
    old = dict(EXPERIENCED, track_record=[{"country": "KZ", "year": 1990}])
    index, need = build(old)
    assert track.for_need(index, need, np.array([0]))["track_recency"][0] == 0


@pytest.fixture(scope="module")
def market():
    needs, products, decisions = logged_dataset(120, 90, 2400, seed=11)
    index = build_index(needs, products)
    return index, fit_model(index, decisions_from(index, decisions), calibrate=False)


def test_every_path_computes_the_same_track_features(market):
    index, model = market
    columns = [FEATURE_NAMES.index(name) for name in TRACK_FEATURES]
    need = index.needs.records[4]
    ranking = rank_products(index, need, model, limit=20)
    grid = track.for_grid(index, np.array([4]))
    for position, row in enumerate(ranking.rows):
        got = ranking.features[position, columns]
        assert got == pytest.approx([grid[name][0, row] for name in TRACK_FEATURES])
    product = copy.copy(index.products.records[7])  # a new product, not the indexed record
    backward = rank_needs(index, product, model, limit=20)
    grid = track.for_grid(index, backward.rows)
    got = backward.features[:, columns]
    assert got == pytest.approx(np.array([grid[name][:, 7] for name in TRACK_FEATURES]).T)
    assert (got[:, 0] == 1).all()  # every product of the synthetic market has a track record


def test_generating_without_track_records_changes_nothing_else():
    plain = generate(40, 30, seed=2)
    needs, products, world = generate_market(40, 30, seed=2, track_records=False)
    assert (needs, products) == plain[:2] and world.experience is None
    with_track = generate_market(40, 30, seed=2)
    assert [dict(p, track_record=None) for p in with_track[1]] == [
        dict(p, track_record=None) for p in products
    ]
    assert sum(bool(p["track_record"]) for p in with_track[1]) > 15


@pytest.mark.parametrize("learner", ["logistic", "boosting"])
def test_without_track_records_the_features_change_no_ranking(learner):
    needs, products, decisions = logged_dataset(100, 80, 2000, seed=6, track_records=False)
    index = build_index(needs, products)
    labelled = decisions_from(index, decisions)
    kept = fit_model(index, labelled, learner=learner, calibrate=False)
    absent = fit_model(index, labelled, learner=learner, exclude=TRACK_FEATURES, calibrate=False)
    rows = np.arange(40)
    with_features = grid_scores(index, rows, kept, kept.config)["learned"]
    without = grid_scores(index, rows, absent, absent.config)["learned"]
    assert with_features == pytest.approx(without, abs=1e-9)
    order = np.argsort(-with_features, axis=1, kind="stable")[:, :10]
    assert (order == np.argsort(-without, axis=1, kind="stable")[:, :10]).all()
