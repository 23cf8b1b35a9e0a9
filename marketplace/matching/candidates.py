"""Hard constraints of a (need, product) pair, near misses, and the stage-1 rule score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import Side

# Machine codes the app translates; order is the order explanations list them in.
CONSTRAINTS = (
    "currency",
    "country",
    "ticket",
    "tenor",
    "instrument",
    "stage",
    "sector",
    "taxonomy",
    "impact",
)
NEED_SIDE = ("currency", "ticket", "tenor", "instrument")
PRODUCT_SIDE = ("country", "sector", "stage", "taxonomy", "impact")
# A pair that breaks one of these is never shown: the mandate rules it out.
HARD = ("currency", "country", "ticket", "sector")
# A pair that misses exactly one of these (and no hard one) is a near miss a person may still
# want: ticket outside the range but within the tolerance, tenor within a year of the range,
# another instrument, another stage, less impact than the mandate's minimum, a taxonomy
# requirement the need does not claim yet (an owner can obtain an opinion or an alignment).
SOFT = ("ticket_exact", "tenor", "instrument", "stage", "impact", "taxonomy")
GOOD, NEAR_MISS, EXCLUDED = 0, 1, 2  # tiers


@dataclass(frozen=True)
class RuleConfig:
    """Knobs of candidate generation and the stage-1 score."""

    ticket_tolerance: float = 0.2  # an amount up to 20 % outside the ticket range is a near miss
    tenor_tolerance: float = 1.0  # a tenor up to a year outside the range is a near miss
    near_miss_limit: int = 1  # soft misses a near miss may have; more exclude the pair
    text_weight: float = 0.5  # weight of the TF-IDF cosine in the stage-1 score


@dataclass
class Pair:
    """Need columns, product columns and what they share; arrays broadcast against each other."""

    need: Side
    product: Side
    hits: dict[str, np.ndarray]
    text: dict[str, np.ndarray]
    rates: dict[str, np.ndarray]


def _not_below(value, bound):
    """True unless both are known and value < bound (NaN compares false)."""
    return ~(value < bound)


def ticket_checks(pair: Pair, tolerance: float) -> dict[str, np.ndarray]:
    """Amount against the ticket range: exact, within tolerance, and whether it is known."""
    amount = pair.need.numbers["amount_usd"]
    low, high = pair.product.numbers["ticket_min"], pair.product.numbers["ticket_max"]
    exact = _not_below(amount, low) & _not_below(high, amount)
    loose = _not_below(amount, low * (1 - tolerance)) & _not_below(high * (1 + tolerance), amount)
    known = ~np.isnan(amount) & ~(np.isnan(low) & np.isnan(high))
    return {"exact": exact, "loose": loose, "known": known}


def _open_or_hit(pair: Pair, name: str) -> np.ndarray:
    need_blank = pair.need.counts[name] == 0
    return (pair.product.counts[name] == 0) | need_blank | (pair.hits[name] > 0)


def constraint_checks(pair: Pair, config: RuleConfig) -> dict[str, np.ndarray]:
    """Whether each constraint is met (an unknown on either side counts as met)."""
    need, product = pair.need.numbers, pair.product.numbers
    geo_open = (pair.product.counts["country"] + pair.product.counts["region"]) == 0
    hits = pair.hits
    shared = hits["taxonomy"] >= pair.product.counts["taxonomy"]
    return {
        "currency": (need["currency_ok"] * product["currency_ok"]) > 0,
        "country": geo_open
        | (pair.need.counts["country"] == 0)
        | (hits["country"] > 0)
        | (hits["region"] > 0),
        "ticket": ticket_checks(pair, config.ticket_tolerance)["loose"],
        "tenor": _not_below(need["tenor"], product["tenor_min"])
        & _not_below(product["tenor_max"], need["tenor"]),
        "instrument": _open_or_hit(pair, "instrument"),
        "stage": _open_or_hit(pair, "stage"),
        "sector": _open_or_hit(pair, "sector"),
        "taxonomy": shared,
        "impact": _not_below(need["tco2e"], product["min_tco2e"]),
    }


def share_met(hits, required) -> np.ndarray:
    """Share of the required items met (1 when nothing is required)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.minimum(hits / required, 1.0)
    return np.where(required == 0, 1.0, share)


def taxonomy_share(pair: Pair) -> np.ndarray:
    """Share of the product's taxonomy requirements the need meets (1 when there are none)."""
    return share_met(pair.hits["taxonomy"], pair.product.counts["taxonomy"])


# screen.py grades its lookup table with this function too, so both stage-1 paths agree.
def graded_fits(met: dict, exact, hit: dict, share) -> dict[str, np.ndarray]:
    """Graded fit per constraint from met flags, exact ticket fit, token hits and taxonomy share."""
    graded = {name: met[name].astype(np.float64) for name in CONSTRAINTS}
    geo = np.where(hit["country"], 1.0, np.where(hit["region"], 0.9, 0.75))
    sector = np.where(hit["technology"], 1.0, np.where(hit["sector"], 0.85, 0.7))
    graded["country"] = np.where(met["country"], geo, 0.0)
    graded["sector"] = np.where(met["sector"], sector, 0.0)
    graded["ticket"] = np.where(exact, 1.0, np.where(met["ticket"], 0.5, 0.0))
    graded["taxonomy"] = share
    return graded


def grades(pair: Pair, met: dict[str, np.ndarray], config: RuleConfig) -> dict[str, np.ndarray]:
    """Graded fit per constraint in [0, 1]: exact matches beat open mandates beat near misses."""
    hit = {name: pair.hits[name] > 0 for name in ("country", "region", "sector", "technology")}
    exact = ticket_checks(pair, config.ticket_tolerance)["exact"]
    return graded_fits(met, exact, hit, taxonomy_share(pair))


def side_scores(graded: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean fit of what the need asks for, and of what the product's mandate asks for."""
    need_side = sum(graded[c] for c in NEED_SIDE) / len(NEED_SIDE)
    product_side = sum(graded[c] for c in PRODUCT_SIDE) / len(PRODUCT_SIDE)
    return need_side, product_side


def harmonic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Harmonic mean, 0 where both are 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(2 * a * b / (a + b))


def missed_count(met: dict[str, np.ndarray]) -> np.ndarray:
    """How many constraints each pair misses."""
    return sum((~met[c]).astype(np.int8) for c in CONSTRAINTS)


def tier_of(met: dict, exact, tenor_near, limit: int) -> np.ndarray:
    """GOOD, NEAR_MISS or EXCLUDED per pair, from the met flags (see HARD and SOFT)."""
    hard_ok = np.logical_and.reduce([np.asarray(met[c]) for c in HARD] + [np.asarray(tenor_near)])
    soft = {**met, "ticket_exact": exact}
    soft_missed = sum((~np.asarray(soft[c])).astype(np.int8) for c in SOFT)
    tier = np.where(soft_missed == 0, GOOD, NEAR_MISS)
    return np.where(hard_ok & (soft_missed <= limit), tier, EXCLUDED).astype(np.int8)


def tenor_near(pair: Pair, tolerance: float) -> np.ndarray:
    """Tenor within `tolerance` years of the range (an unknown counts as met)."""
    tenor, product = pair.need.numbers["tenor"], pair.product.numbers
    return _not_below(tenor, product["tenor_min"] - tolerance) & _not_below(
        product["tenor_max"] + tolerance, tenor
    )


def pair_tiers(pair: Pair, met: dict, config: RuleConfig) -> np.ndarray:
    """Tier of each pair of broadcast columns."""
    exact = ticket_checks(pair, config.ticket_tolerance)["exact"]
    return tier_of(met, exact, tenor_near(pair, config.tenor_tolerance), config.near_miss_limit)


def rule_score(need_side, product_side, excluded) -> np.ndarray:
    """Harmonic mean of need side and product side, minus 2 for an excluded pair."""
    # Excluded pairs sink below every eligible one (whose score is ≥ 0, an excluded one's < -0.5)
    # but keep their order among themselves (offline metrics rank every product).
    return harmonic(need_side, product_side) - 2.0 * excluded


def rule_parts(pair: Pair, config: RuleConfig) -> dict[str, np.ndarray]:
    """Constraint checks, tier, missed count and the rule score (need side ⊕ product side)."""
    met = constraint_checks(pair, config)
    graded = grades(pair, met, config)
    need_side, product_side = side_scores(graded)
    tier = pair_tiers(pair, met, config)
    return {
        "met": met,
        "graded": graded,
        "need_side": need_side,
        "product_side": product_side,
        "missed": missed_count(met),
        "tier": tier,
        "rules": rule_score(need_side, product_side, tier == EXCLUDED),
    }


def stage_one(parts: dict, text_cosine: np.ndarray, config: RuleConfig) -> np.ndarray:
    """Stage-1 score: rule score plus weighted text cosine."""
    return parts["rules"] + config.text_weight * text_cosine
