"""Cold start with a trained model: a product nobody has decided on yet, and a need from a country
the model never saw, still get sensible suggestions."""

import numpy as np
import pytest

from marketplace.matching.index import MatchingIndex
from marketplace.matching.ranker import rank_needs, rank_products
from marketplace.matching.records import Need, Product
from marketplace.matching.simulate import build_index, logged_dataset
from marketplace.matching.suggest import suggest_for_need
from marketplace.matching.train import decisions_from, fit_model
from marketplace.matching.world import countries


def tailored(need: Need, ident: str) -> dict:
    """A product whose mandate fits the need on every constraint."""
    amount = need.amount_usd
    return {
        "id": ident,
        "name": need.title,
        "description": need.description,
        "product_type": need.instruments[0],
        "ticket_min": amount / 2,
        "ticket_max": amount * 2,
        "currency": "USD",
        "countries": [need.country],
        "sectors": [need.sector],
        "technologies": [need.technology],
        "instruments": list(need.instruments),
        "tenor_min": need.tenor_years - 2,
        "tenor_max": need.tenor_years + 2,
        "stages": [need.stage],
        "investor_id": f"investor-of-{ident}",
    }


@pytest.fixture(scope="module")
def trained():
    needs, products, decisions = logged_dataset(200, 120, 4000, seed=13)
    index = build_index(needs, products)
    model = fit_model(index, decisions_from(index, decisions))
    return needs, products, model


def _new_country(needs: list[dict]) -> str:
    seen = {n["country"] for n in needs}
    return next(c[0] for c in countries() if c[0] not in seen)


def test_a_new_product_that_fits_a_need_lands_in_its_top_ten(trained):
    needs, products, model = trained
    need = Need.from_dict(needs[5])
    fresh = Product.from_dict(tailored(need, "P-new"))
    index = MatchingIndex.build(
        [Need.from_dict(n) for n in needs], [*map(Product.from_dict, products), fresh]
    )
    assert "P-new" not in model.stats.product  # no decision on it
    indexed = index.needs.records[index.needs.row_of[need.id]]  # rows are not in input order
    ranking = rank_products(index, indexed, model, limit=10)
    assert "P-new" in [index.products.records[r].id for r in ranking.rows]
    backward = rank_needs(index, fresh, model, limit=10)
    assert need.id in [index.needs.records[r].id for r in backward.rows]


def test_a_need_from_a_country_never_seen_gets_products_that_serve_it(trained):
    needs, products, model = trained
    country = _new_country(needs)
    need = Need.from_dict(dict(needs[7], id="N-new", country=country))
    index = MatchingIndex.build(
        [Need.from_dict(n) for n in needs],
        [*map(Product.from_dict, products), Product.from_dict(tailored(need, "P-local"))],
    )
    shown = suggest_for_need(index, need, model, k=10, explore=False)
    assert shown[0].id == "P-local" and not shown[0].explanation["constraints_missed"]
    missed = [len(s.explanation["constraints_missed"]) for s in shown]
    # Whatever fits fully comes before anything that misses two constraints or more.
    assert max(i for i, m in enumerate(missed) if m == 0) < min(
        [i for i, m in enumerate(missed) if m >= 2] or [len(missed)]
    )
    features = np.array([list(s.features.values()) for s in shown])
    assert ((model.probability(features) > 0) & (model.probability(features) < 1)).all()
