"""The index stores each side in its own row order (cluster_order): what it returns must not
depend on the order the records came in."""

import random

import numpy as np
import pytest

from marketplace.matching.index import MatchingIndex, cluster_order, product_numbers
from marketplace.matching.ranker import rank_needs, rank_products
from marketplace.matching.records import Product
from marketplace.matching.simulate import build_index, logged_dataset
from marketplace.matching.train import decisions_from, fit_model


@pytest.fixture(scope="module")
def market():
    needs, products, decisions = logged_dataset(80, 400, 2000, seed=5)
    index = build_index(needs, products)
    return index, fit_model(index, decisions_from(index, decisions))


def _named(index, ranking, table) -> list[tuple]:
    return [
        (table.records[row].id, round(float(score), 9), int(tier))
        for row, score, tier in zip(ranking.rows, ranking.scores, ranking.tiers, strict=True)
    ]


def test_rankings_do_not_depend_on_the_order_records_are_given(market):
    index, model = market
    needs, products = list(index.needs.records), list(index.products.records)
    rng = random.Random(1)
    rng.shuffle(needs)
    rng.shuffle(products)
    shuffled = MatchingIndex.build(needs, products, vectoriser=index.vectoriser)
    for need in needs[:25]:
        a = rank_products(index, need, model, limit=30)
        b = rank_products(shuffled, need, model, limit=30)
        assert sorted(_named(index, a, index.products)) == sorted(
            _named(shuffled, b, shuffled.products)
        )
    for product in products[:25]:
        a = rank_needs(index, product, model, limit=30)
        b = rank_needs(shuffled, product, model, limit=30)
        assert sorted(_named(index, a, index.needs)) == sorted(_named(shuffled, b, shuffled.needs))


def test_rows_are_grouped_by_mandate_and_every_record_keeps_its_row(market):
    index, _ = market
    table = index.products
    assert sorted(table.order.tolist()) == list(range(len(table)))
    assert all(table.records[row].id == ident for ident, row in table.row_of.items())
    regions = [record.regions for record in table.records]
    assert regions == sorted(regions)  # the most significant key of the order
    again = cluster_order(table.tokens, index.vocabulary)
    assert (again == np.arange(len(table))).all()  # sorted records stay as they are


def test_each_row_reads_its_own_text(market):
    index, _ = market
    for table in (index.needs, index.products):
        for row in (0, len(table) // 2, len(table) - 1):
            own = index.vectoriser.transform([table.records[row].text])
            assert abs(table.text_of(row) - own).max() < 1e-6
            assert table.weights(row) == pytest.approx(
                dict(zip(own.indices.tolist(), own.data.tolist(), strict=True))
            )


def test_currency_column_is_the_records_own_answer():
    products = [
        Product(id=1),
        Product(id=2, ticket_min=5.0, currency="XXX"),
        Product(id=3, ticket_min=5.0, ticket_max_usd=7.0),
        Product(id=4, ticket_max=float("nan")),
        Product(id=5, ticket_min=1.0, ticket_min_usd=float("nan")),
    ]
    column = product_numbers(products)["currency_ok"]
    assert column.tolist() == [float(p.currency_known) for p in products]
