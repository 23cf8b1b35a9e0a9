"""A synthetic market: realistic needs and products (BRI countries, four currencies, English and
Chinese) and the hidden broker tastes that the simulator turns into decisions."""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from tqdm import tqdm

from .records import COUNTRIES_CSV, DEFAULT_USD_RATES, TECHNOLOGY_SECTOR

SECTORS = (
    "solar",
    "wind",
    "hydro",
    "hydrogen",
    "storage",
    "ccus",
    "transport",
    "buildings",
    "water",
)
INSTRUMENTS = (
    "green_loan",
    "green_bond",
    "sustainability_linked_loan",
    "project_equity",
    "mezzanine",
    "guarantee",
    "carbon_credit_offtake",
    "blended_facility",
)
STAGES = ("concept", "feasibility", "permitting", "financing", "construction", "operation")
CURRENCIES = ("USD", "CNY", "HKD", "EUR")
REQUIREMENTS = (
    "icma_gbp_aligned",
    "lma_glp_aligned",
    "eu_taxonomy_aligned",
    "common_ground_taxonomy_aligned",
    "china_catalogue_aligned",
    "second_party_opinion",
)
SECTOR_ZH = dict(
    zip(
        SECTORS,
        ("太阳能", "风电", "水电", "绿氢", "储能", "碳捕集", "绿色交通", "绿色建筑", "水务"),
        strict=True,
    )
)
# Latent themes: brokers' hidden tastes follow them, and the text mentions them, imperfectly.
THEMES = (
    ("utility-scale grid connection with a sovereign offtaker", "并网公用事业规模"),
    ("rural electrification and community mini-grids", "农村电气化社区微电网"),
    ("industrial park supply for export manufacturing", "工业园区出口制造供能"),
    ("municipal infrastructure for a growing city", "城市基础设施更新"),
    ("cross-border interconnection and regional trade", "跨境互联区域贸易"),
)


@lru_cache(maxsize=1)
def countries() -> tuple[tuple[str, str, str], ...]:
    """(iso2, name, World Bank region) of the BRI list."""
    with COUNTRIES_CSV.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        return tuple((r["iso2"], r["country_name_iso"], r["wb_region"]) for r in rows)


@dataclass
class Experience:
    """What each investor financed before (its track record), as the hidden truth reads it."""

    country_deals: np.ndarray  # investors × countries (index in countries())
    technology_deals: np.ndarray  # investors × technologies (index in TECHNOLOGIES)
    recent: np.ndarray  # investors × countries: a deal there since RECENT_SINCE
    need_country: np.ndarray  # needs → country index (-1 when not on the list)
    need_technology: np.ndarray  # needs → technology index


@dataclass
class World:
    """Hidden parameters behind the data: what brokers and investors really prefer."""

    need_theme: np.ndarray  # needs × themes, rows sum to 1
    product_theme: np.ndarray  # products × themes, centred tastes
    product_quality: np.ndarray  # products
    investor_taste: np.ndarray  # investors × sectors
    product_investor: np.ndarray  # products → investor index
    need_sector: np.ndarray  # needs → sector index
    seed: int
    experience: Experience | None = None  # None: generated without track records


def _tech_for(sector: str, rnd: random.Random) -> str:
    return rnd.choice([t for t, s in TECHNOLOGY_SECTOR.items() if s == sector])


def _need_text(rnd, sector, tech, country, theme, capacity, zh) -> tuple[str, str]:
    if zh:
        title = f"{country[1]}{capacity:.0f}兆瓦{SECTOR_ZH[sector]}项目"
        body = f"该项目位于{country[1]}，属于{SECTOR_ZH[sector]}领域，{THEMES[theme][1]}。"
        body += "寻求绿色融资。"
        return title, body
    kind = tech.replace("_", " ")
    title = f"{capacity:.0f} MW {kind} project in {country[1]}"
    verbs = ("seeks", "is raising", "requires")
    body = (
        f"A {kind} development in {country[1]} focused on {THEMES[theme][0]}. "
        f"The sponsor {rnd.choice(verbs)} long-term green finance for {sector} assets."
    )
    return title, body


def make_need(i: int, rnd: random.Random, theme: int, sector: str) -> dict:
    """One synthetic financing need as a JSON-lines record."""
    country = rnd.choice(countries())
    tech = _tech_for(sector, rnd)
    amount_usd = math.exp(rnd.gauss(math.log(40e6), 1.0))
    currency = rnd.choices(CURRENCIES, (0.5, 0.25, 0.1, 0.15))[0]
    capacity = amount_usd / 1.2e6 * rnd.uniform(0.6, 1.4)
    title, body = _need_text(rnd, sector, tech, country, theme, capacity, rnd.random() < 0.3)
    instruments = rnd.sample(INSTRUMENTS[:5], rnd.randrange(1, 3))
    return {
        "type": "need",
        "id": i,
        "title": title,
        "description": body,
        "country": country[0],
        "sector": sector,
        "technology": tech,
        "amount": round(amount_usd / DEFAULT_USD_RATES[currency], -3),
        "currency": currency,
        "instrument": instruments[0] if len(instruments) == 1 else instruments,
        "tenor_years": rnd.randrange(3, 21),
        "stage": STAGES[rnd.randrange(1, 6)],
        "capacity_mw": round(capacity, 1),
        "year": rnd.randrange(2024, 2028),
        "expected_tco2e": round(capacity * 1500 * rnd.uniform(0.5, 1.5))
        if rnd.random() < 0.7
        else None,
        "taxonomy_activity": "4.1" if rnd.random() < 0.5 else None,
        "taxonomy_claims": [r for r in REQUIREMENTS if rnd.random() < 0.35],
        "organisation_id": rnd.randrange(1, 2 + i // 3),
    }


def _geo_mandate(rnd: random.Random) -> tuple[list[str], list[str]]:
    kind = rnd.random()
    if kind < 0.45:
        return [], rnd.sample(_regions(), rnd.randrange(1, 3))
    if kind < 0.8:
        return [c[0] for c in rnd.sample(countries(), rnd.randrange(3, 16))], []
    return [], []


@lru_cache(maxsize=1)
def _regions() -> list[str]:
    return sorted({c[2] for c in countries()})


def _product_text(name, ptype, sectors, regions, countries_, themes, zh) -> str:
    where = ", ".join(regions) or ", ".join(countries_[:4]) or "all Belt and Road countries"
    if zh:
        focus = "、".join(SECTOR_ZH[s] for s in sectors) or "绿色"
        return f"{name}：支持{focus}项目，{THEMES[themes[0]][1]}，{THEMES[themes[1]][1]}。"
    focus = ", ".join(sectors) or "green"
    kind = ptype.replace("_", " ")
    return (
        f"{name} provides {kind} for {focus} projects in {where}. "
        f"Preferred: {THEMES[themes[0]][0]}; also {THEMES[themes[1]][0]}."
    )


def make_product(i: int, rnd: random.Random, investor: int, currency: str, favourite) -> dict:
    """One synthetic finance product as a JSON-lines record."""
    ptype = rnd.choice(INSTRUMENTS)
    low = math.exp(rnd.gauss(math.log(10e6), 0.9))
    high = low * math.exp(rnd.uniform(1.0, 3.5))
    country_list, regions = _geo_mandate(rnd)
    sectors = [] if rnd.random() < 0.15 else sorted(rnd.sample(SECTORS, rnd.randrange(1, 4)))
    techs = [_tech_for(s, rnd) for s in sectors if rnd.random() < 0.3]
    tmin = rnd.randrange(1, 8)
    first = rnd.randrange(0, 4)
    stages = list(STAGES[first : first + rnd.randrange(2, 5)]) if rnd.random() < 0.6 else []
    name = f"Investor {investor} {ptype.replace('_', ' ').title()} {i}"
    rate = DEFAULT_USD_RATES[currency]
    return {
        "type": "product",
        "id": f"P{i}",
        "name": name,
        "description": _product_text(
            name, ptype, sectors, regions, country_list, favourite, rnd.random() < 0.25
        ),
        "product_type": ptype,
        "ticket_min": round(low / rate, -4),
        "ticket_max": round(high / rate, -4),
        "currency": currency,
        "countries": country_list,
        "regions": regions,
        "sectors": sectors,
        "technologies": techs,
        "instruments": [ptype, INSTRUMENTS[rnd.randrange(5)]],
        "tenor_min": tmin,
        "tenor_max": tmin + rnd.randrange(3, 16),
        "stages": stages,
        "min_tco2e": rnd.choice((5e3, 2e4, 5e4)) if rnd.random() < 0.3 else None,
        "taxonomy_requirements": [r for r in REQUIREMENTS if rnd.random() < 0.08],
        "investor_id": investor,
    }


def generate(n_needs: int, n_products: int, seed: int = 0, progress: bool = False):
    """Needs and products as JSON-lines dicts, and the hidden World behind them."""
    rng = np.random.default_rng(seed)
    n_investors = max(3, n_products // 8)
    themes = len(THEMES)
    need_main = rng.integers(themes, size=n_needs)
    need_theme = 0.25 * rng.dirichlet(np.ones(themes), n_needs) + 0.75 * np.eye(themes)[need_main]
    sector_index = rng.choice(len(SECTORS), size=n_needs, p=_sector_weights())
    product_theme = rng.normal(0, 1, (n_products, themes))
    investor = rng.integers(n_investors, size=n_products)
    investor_currency = rng.choice(4, size=n_investors, p=(0.45, 0.3, 0.15, 0.1))
    rnd = random.Random(seed)  # per-record draws: far faster than numpy for single values
    needs = [
        make_need(i, rnd, int(need_main[i]), SECTORS[sector_index[i]])
        for i in tqdm(range(n_needs), desc="needs", disable=not progress)
    ]
    favourite = np.argsort(-product_theme, axis=1)[:, :2].tolist()
    products = [
        make_product(
            j, rnd, int(investor[j]), CURRENCIES[investor_currency[investor[j]]], favourite[j]
        )
        for j in tqdm(range(n_products), desc="products", disable=not progress)
    ]
    world = World(
        need_theme,
        product_theme - product_theme.mean(axis=1, keepdims=True),
        rng.normal(0, 0.7, n_products),
        rng.normal(0, 1, (n_investors, len(SECTORS))),
        investor,
        sector_index,
        seed,
    )
    return needs, products, world


def _sector_weights() -> np.ndarray:
    weights = np.array([5, 4, 2, 1, 2, 0.5, 2, 1, 1.5])
    return weights / weights.sum()
