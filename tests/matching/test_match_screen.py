"""The whole-table stage 1 (packed codes, looked-up scores) against rule_parts pair by pair."""

import numpy as np
import pytest

from marketplace.matching.candidates import RuleConfig
from marketplace.matching.features import hits_for_grid, hits_for_need, hits_for_product
from marketplace.matching.index import MatchingIndex
from marketplace.matching.records import Need, Product
from marketplace.matching.screen import screen, screen_pairwise
from marketplace.matching.synthetic import generate

ODD_NEEDS = [
    {"id": "blank"},
    {"id": "no-amount", "country": "KZ", "sector": "solar", "currency": "XYZ", "tenor_years": 7},
    {"id": "claims", "taxonomy_claims": ["second_party_opinion", "icma_gbp_aligned"]},
]
ODD_PRODUCTS = [
    {"id": "open"},
    {"id": "min-only", "ticket_min": 5e6, "regions": ["South Asia"], "sectors": ["wind"]},
    {"id": "many-requirements", "taxonomy_requirements": ["a", "b", "c", "d", "e", "f", "g"]},
    {"id": "every-country", "countries": ["KZ", "UZ", "PK", "VN", "KE", "EG", "ID", "TR", "RS"]},
]


@pytest.fixture(scope="module")
def index():
    needs, products, _ = generate(150, 200, seed=7)
    return MatchingIndex.build(
        [Need.from_dict(n) for n in [*needs, *ODD_NEEDS]],
        [Product.from_dict(p) for p in [*products, *ODD_PRODUCTS]],
    )


CONFIGS = [RuleConfig(), RuleConfig(ticket_tolerance=0.35, max_missed=0, text_weight=0.2)]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("k", [5, 120, 400])
def test_screen_matches_rule_parts_for_needs(index, config, k):
    for need in index.needs.records:
        query = index.need_query(need)
        hits, cosine = hits_for_need(index, query)
        fast = screen(query.side, index.products, hits, cosine, config, k, True)
        slow = screen_pairwise(query.side, index.products.side, hits, cosine, config, k, True)
        np.testing.assert_array_equal(fast[0], slow[0])
        np.testing.assert_array_equal(fast[1], slow[1])


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("k", [5, 100, 300])
def test_screen_matches_rule_parts_for_products(index, config, k):
    for product in index.products.records:
        query = index.product_query(product)
        hits, cosine = hits_for_product(index, query)
        fast = screen(query.side, index.needs, hits, cosine, config, k, False)
        slow = screen_pairwise(query.side, index.needs.side, hits, cosine, config, k, False)
        np.testing.assert_array_equal(fast[0], slow[0])
        np.testing.assert_array_equal(fast[1], slow[1])


def test_token_hits_and_text_dot_agree_with_dense_products(index):
    hits, text = hits_for_grid(index, np.arange(len(index.needs)))
    for row, need in enumerate(index.needs.records):
        query = index.need_query(need)
        one, _ = hits_for_need(index, query)
        for name, column in one.items():
            np.testing.assert_array_equal(column, hits[name][row], err_msg=name)
        full = index.products.text_dot(query.text)
        np.testing.assert_allclose(full, text["text"][row], atol=1e-6)
