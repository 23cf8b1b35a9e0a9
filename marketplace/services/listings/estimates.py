"""Turning an impact estimate into the columns stored on a financing need."""

from dataclasses import asdict
from decimal import Decimal
from enum import Enum

from marketplace.impact import ImpactEstimate, estimate_avoided_emissions


def _plain(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def impact_columns(
    technology: str,
    country_iso2: str,
    capacity_mw: Decimal | None,
    owner_capacity_factor: Decimal | None = None,
    owner_tco2e: Decimal | None = None,
) -> dict:
    """estimated_tco2e_per_year, impact_method and impact_detail for a need's current inputs."""
    estimate: ImpactEstimate = estimate_avoided_emissions(
        technology, country_iso2, capacity_mw, owner_capacity_factor, owner_tco2e
    )
    return {
        "estimated_tco2e_per_year": estimate.tco2e_per_year,
        "impact_method": estimate.method.value,
        "impact_detail": {key: _plain(value) for key, value in asdict(estimate).items()},
    }
