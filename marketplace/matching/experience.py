"""Synthetic track records: each investor's earlier deals, written into its products' records,
and the experience the hidden truth of the simulator reads from them."""

from __future__ import annotations

import numpy as np

from .records import TECHNOLOGY_SECTOR
from .world import SECTORS, Experience, World, countries, generate

TECHNOLOGIES = tuple(TECHNOLOGY_SECTOR)
YEARS = (2005, 2025)
RECENT_SINCE = 2018  # a deal in the need's country since then counts as recent experience
ACTIVE_SHARE = 0.75  # investors with any track record


def _deal(rng, home: np.ndarray, tech_p: np.ndarray, n_products: int) -> dict:
    """One earlier deal: mostly in the investor's home countries, in technologies it likes."""
    listed = countries()
    country = listed[
        home[rng.integers(home.size)] if rng.random() < 0.75 else rng.integers(len(listed))
    ]
    technology = TECHNOLOGIES[rng.choice(len(TECHNOLOGIES), p=tech_p)]
    partners = rng.choice(n_products, size=rng.integers(0, 4), replace=False)
    return {
        "country": country[0],
        "region": country[2] if rng.random() < 0.5 else None,
        "technology": technology,
        "sector": TECHNOLOGY_SECTOR[technology] if rng.random() < 0.5 else None,
        "year": int(rng.integers(YEARS[0], YEARS[1] + 1)) if rng.random() < 0.95 else None,
        "amount_usd": round(float(np.exp(rng.normal(np.log(60e6), 0.9))), -5)
        if rng.random() < 0.9
        else None,
        "co_financiers": [f"P{j}" for j in partners.tolist()],
    }


def _home(rng) -> np.ndarray:
    """An investor's home countries: a few of one World Bank region."""
    listed = countries()
    region = listed[rng.integers(len(listed))][2]
    own = np.array([i for i, c in enumerate(listed) if c[2] == region])
    return rng.choice(own, size=min(own.size, int(rng.integers(3, 9))), replace=False)


def _technology_weights(rng, taste_row: np.ndarray) -> np.ndarray:
    """Half taste for the sector, half a focus on two technologies of the investor's own."""
    sector_of = np.array([SECTORS.index(TECHNOLOGY_SECTOR[t]) for t in TECHNOLOGIES])
    taste = np.exp(1.2 * taste_row[sector_of])
    focus = np.zeros(len(TECHNOLOGIES))
    focus[rng.choice(len(TECHNOLOGIES), size=2, replace=False)] = 0.5
    return 0.5 * taste / taste.sum() + 0.5 * focus


def _investor_deals(rng, taste: np.ndarray, n_products: int) -> list[list[dict]]:
    """Deals of every investor; a quarter of them have none."""
    out = []
    for row in taste:
        if rng.random() >= ACTIVE_SHARE:
            out.append([])
            continue
        home, weights = _home(rng), _technology_weights(rng, row)
        count = 1 + rng.poisson(6)
        out.append([_deal(rng, home, weights, n_products) for _ in range(count)])
    return out


def _experience(deals: list[list[dict]], needs: list[dict]) -> Experience:
    code = {c[0]: i for i, c in enumerate(countries())}
    tech_code = {t: i for i, t in enumerate(TECHNOLOGIES)}
    shape = (len(deals), len(code))
    country, recent = np.zeros(shape), np.zeros(shape)
    technology = np.zeros((len(deals), len(TECHNOLOGIES)))
    for investor, own in enumerate(deals):
        for deal in own:
            country[investor, code[deal["country"]]] += 1
            technology[investor, tech_code[deal["technology"]]] += 1
            if (deal["year"] or 0) >= RECENT_SINCE:
                recent[investor, code[deal["country"]]] = 1
    return Experience(
        country,
        technology,
        recent,
        np.array([code.get(n["country"], -1) for n in needs]),
        np.array([tech_code.get(n["technology"], -1) for n in needs]),
    )


def generate_market(
    n_needs: int, n_products: int, seed: int = 0, progress: bool = False, track_records: bool = True
) -> tuple[list[dict], list[dict], World]:
    """`world.generate`, plus (by default) each product carrying its investor's track record.

    Without track records the records and the world are exactly those of `world.generate`."""
    needs, products, world = generate(n_needs, n_products, seed, progress=progress)
    if not track_records:
        return needs, products, world
    rng = np.random.default_rng([seed, 1789])  # its own stream: the rest stays as it was
    deals = _investor_deals(rng, world.investor_taste, n_products)
    for product, investor in zip(products, world.product_investor.tolist(), strict=True):
        product["track_record"] = deals[investor]
    world.experience = _experience(deals, needs)
    return needs, products, world
