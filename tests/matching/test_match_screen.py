"""The whole-table stage 1 (packed codes, looked-up scores) against rule_parts pair by pair."""

import numpy as np
import pytest

from marketplace.matching.candidates import RuleConfig
from marketplace.matching.features import hits_for_grid, hits_for_need, hits_for_product
from marketplace.matching.index import MatchingIndex
from marketplace.matching.prune import candidates
from marketplace.matching.records import Need, Product
from marketplace.matching.screen import screen, screen_pairwise
from marketplace.matching.world import generate

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


CONFIGS = [
    RuleConfig(),
    RuleConfig(ticket_tolerance=0.35, tenor_tolerance=2.0, near_miss_limit=0, text_weight=0.2),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("k", [5, 120, 400])
@pytest.mark.parametrize("need_is_query", [True, False], ids=["need→products", "product→needs"])
def test_pruned_screen_matches_rule_parts_over_every_row(index, config, k, need_is_query):
    """Stage 0 (bitmaps) and stage 1 (codes) on the candidates return exactly what grading every
    pair with rule_parts returns: pruning never drops an eligible row."""
    queries, items = (
        (index.needs, index.products) if need_is_query else (index.products, index.needs)
    )
    pruned = 0
    for record in queries.records:
        if need_is_query:
            query = index.need_query(record)
            hits_of = hits_for_need
        else:
            query = index.product_query(record)
            hits_of = hits_for_product
        rows = candidates(items, query, config, need_is_query)
        hits, cosine = hits_of(index, query, rows)
        top, first, tiers = screen(
            query.side, items.side.take(rows), hits, cosine, config, k, need_is_query, k // 2
        )
        everything, all_cosine = hits_of(index, query)
        slow = screen_pairwise(
            query.side, items.side, everything, all_cosine, config, (k, k // 2), need_is_query
        )
        for got, expected in zip((rows[top], first, tiers), slow, strict=True):
            np.testing.assert_array_equal(got, expected)
        pruned += len(items) - rows.size
    assert pruned > 0  # the bitmaps did rule rows out


def test_token_hits_and_text_dot_agree_with_dense_products(index):
    hits, text = hits_for_grid(index, np.arange(len(index.needs)))
    for row, need in enumerate(index.needs.records):
        query = index.need_query(need)
        one, _ = hits_for_need(index, query)
        for name, column in one.items():
            np.testing.assert_array_equal(column, hits[name][row], err_msg=name)
        full = index.products.text_dot(query.text)
        np.testing.assert_allclose(full, text["text"][row], atol=1e-6)
