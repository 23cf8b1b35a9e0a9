"""Reasons a person reads: why a pair is suggested, or why it is only a near miss.

Each reason is a code with plain parameters (ISO codes, sector keys, numbers); the app phrases it
in the viewer's language. Near-miss reasons come first (they say what is off), then the track
record, then what fits, ordered by how much it weighed in the score.
"""

from __future__ import annotations

from .records import Need, Product, TrackDeal

# Which reason a feature speaks for, to order reasons by the model's contributions.
FEATURE_REASON = {
    "ticket_in_range": "ticket_fits",
    "ticket_position": "ticket_fits",
    "log_amount_to_min": "ticket_fits",
    "log_amount_to_max": "ticket_fits",
    "country_match": "country_in_mandate",
    "region_match": "region_in_mandate",
    "technology_match": "technology_in_mandate",
    "sector_match": "sector_in_mandate",
    "tenor_in_range": "tenor_fits",
    "tenor_gap_years": "tenor_fits",
    "instrument_match": "instrument_fits",
    "taxonomy_share": "taxonomy_met",
    "impact_ok": "impact_fits",
    "log_impact_ratio": "impact_fits",
    "stage_match": "stage_fits",
    "text_cosine": "similar_text",
    "tag_cosine": "similar_text",
    "investor_sector_acceptance_oof": "investor_sector_record",
    **dict.fromkeys(
        (
            "track_log_deals_country",
            "track_log_deals_region",
            "track_log_deals_technology",
            "track_log_deals_sector",
            "track_recency",
        ),
        "track_record",
    ),
}
LIMIT = 4


def _deals_like(need: Need, deals: tuple[TrackDeal, ...]) -> dict | None:
    """The investor's earlier deals most like the need: same technology (or sector) and place."""
    kind = "technology" if need.technology else "sector"
    same_kind = [d for d in deals if getattr(d, kind) and getattr(d, kind) == getattr(need, kind)]
    for where, value in (("country", need.country), ("region", need.region)):
        here = [d for d in same_kind if value and getattr(d, where) == value]
        if here:
            return _deal_reason(here, kind, getattr(need, kind), where, value)
    if same_kind:
        return _deal_reason(same_kind, kind, getattr(need, kind), None, None)
    here = [d for d in deals if need.country and d.country == need.country]
    return _deal_reason(here, None, None, "country", need.country) if here else None


def _deal_reason(deals, kind, value, where, place) -> dict:
    years = [int(d.year) for d in deals if d.year is not None]
    return {
        "code": "track_record",
        "count": len(deals),
        kind or "sector": value,
        "kind": kind,
        "where": where,
        "place": place,
        "since": min(years) if years else None,
    }


def _near_miss_reasons(need: Need, product: Product, missed: list[str], x: dict) -> list[dict]:
    """What a near miss misses, with the numbers a person needs to judge it."""
    out = []
    if "ticket_exact" in missed:
        out.append(
            {
                "code": "ticket_outside",
                "above": bool(x["ticket_position"] > 1),
                "amount_usd": need.amount_usd,
                "min_usd": product.ticket_min_usd,
                "max_usd": product.ticket_max_usd,
            }
        )
    if "tenor" in missed:
        out.append(
            {
                "code": "tenor_outside",
                "tenor": need.tenor_years,
                "min": product.tenor_min,
                "max": product.tenor_max,
            }
        )
    if "instrument" in missed:
        out.append(
            {
                "code": "instrument_differs",
                "wanted": list(need.instruments),
                "offered": list(product.instrument_set),
            }
        )
    if "stage" in missed:
        out.append({"code": "stage_differs", "stage": need.stage, "stages": list(product.stages)})
    if "impact" in missed:
        out.append(
            {"code": "impact_below", "tco2e": need.expected_tco2e, "minimum": product.min_tco2e}
        )
    if "taxonomy" in missed:
        wanted = [r for r in product.taxonomy_requirements if r not in need.taxonomy_tags]
        out.append({"code": "taxonomy_missing", "requirements": wanted})
    return out


def _fits(need: Need, product: Product, x: dict) -> dict[str, dict]:
    """Every positive reason that holds for the pair, by code."""
    fits = {}
    if x["ticket_in_range"]:
        fits["ticket_fits"] = {"code": "ticket_fits"}
    if x["country_match"]:
        fits["country_in_mandate"] = {"code": "country_in_mandate", "country": need.country}
    elif x["region_match"]:
        fits["region_in_mandate"] = {"code": "region_in_mandate", "region": need.region}
    if x["technology_match"]:
        fits["technology_in_mandate"] = {
            "code": "technology_in_mandate",
            "technology": need.technology,
        }
    elif x["sector_match"]:
        fits["sector_in_mandate"] = {"code": "sector_in_mandate", "sector": need.sector}
    if x["tenor_in_range"]:
        fits["tenor_fits"] = {"code": "tenor_fits", "tenor": need.tenor_years}
    shared = [i for i in need.instruments if i in product.instrument_set]
    if x["instrument_match"] and shared:
        fits["instrument_fits"] = {"code": "instrument_fits", "instrument": shared[0]}
    if product.taxonomy_requirements and x["taxonomy_share"] >= 1:
        fits["taxonomy_met"] = {"code": "taxonomy_met"}
    if product.min_tco2e and x["impact_ok"] and need.expected_tco2e is not None:
        fits["impact_fits"] = {"code": "impact_fits", "tco2e": need.expected_tco2e}
    return fits


def _weights(contributions: list[dict]) -> dict[str, float]:
    """How much each reason weighed in the score: the sum of its features' contributions."""
    out: dict[str, float] = {}
    for item in contributions:
        code = FEATURE_REASON.get(item["feature"])
        if code and item.get("contribution") is not None:
            out[code] = out.get(code, 0.0) + float(item["contribution"])
    return out


def reasons(
    need: Need, product: Product, x: dict, soft_missed: list[str], contributions: list[dict]
) -> list[dict]:
    """Up to LIMIT reasons for one pair, the most telling first."""
    out = _near_miss_reasons(need, product, soft_missed, x)
    record = _deals_like(need, product.track_record)
    if record:
        out.append(record)
    fits = _fits(need, product, x)
    weight = _weights(contributions)
    ordered = sorted(fits, key=lambda code: (-weight.get(code, 0.0), list(fits).index(code)))
    out += [fits[code] for code in ordered]
    return out[:LIMIT]
