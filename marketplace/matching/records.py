"""Plain records of needs and products, read tolerantly from the JSON-lines format."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

COUNTRIES_CSV = Path(__file__).resolve().parent.parent / "reference" / "data" / "bri_countries.csv"

# Units of USD per one unit of currency; the app passes its own FX table instead.
DEFAULT_USD_RATES: dict[str, float] = {"USD": 1.0, "CNY": 0.138, "HKD": 0.128, "EUR": 1.08}

# Duplicated from marketplace.reference.sectors because this package may not import the app.
TECHNOLOGY_SECTOR: dict[str, str] = {
    "solar_pv": "solar",
    "csp": "solar",
    "onshore_wind": "wind",
    "offshore_wind": "wind",
    "hydropower": "hydro",
    "green_hydrogen": "hydrogen",
    "battery_storage": "storage",
    "ccus": "ccus",
    "e_mobility": "transport",
    "rail": "transport",
    "green_buildings": "buildings",
    "water_management": "water",
}

# Requirements a need meets by naming a taxonomy activity, without a separate verified claim.
ACTIVITY_REQUIREMENTS = frozenset({"eu_taxonomy_aligned", "common_ground_taxonomy_aligned"})


@lru_cache(maxsize=1)
def country_regions() -> dict[str, str]:
    """ISO alpha-2 code → World Bank region, from the BRI country list."""
    with COUNTRIES_CSV.open(newline="", encoding="utf-8") as handle:
        return {
            row["iso2"].strip().upper(): row["wb_region"].strip() for row in csv.DictReader(handle)
        }


def region_of(iso2: str | None) -> str | None:
    """World Bank region of a country, or None when the country is not on the list."""
    return country_regions().get(iso2.upper()) if iso2 else None


def to_usd(amount: float | None, currency: str | None, usd_rates: dict[str, float]) -> float | None:
    """Amount in USD, or None when the amount or the currency's rate is unknown."""
    rate = usd_rates.get((currency or "").upper())
    if amount is None or rate is None:
        return None
    return amount * rate


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _key(value: Any) -> str | None:
    text = _text(value).strip()
    return text or None


def _keys(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else ()
    return tuple(dict.fromkeys(key for key in map(_key, items) if key))


def _upper(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value.upper() for value in values))


@dataclass
class Need:
    """A financing need as the matcher sees it."""

    id: Any
    title: str = ""
    description: str = ""
    country: str | None = None
    sector: str | None = None
    technology: str | None = None
    amount: float | None = None
    currency: str | None = None
    amount_usd: float | None = None
    instruments: tuple[str, ...] = ()
    tenor_years: float | None = None
    stage: str | None = None
    capacity_mw: float | None = None
    year: float | None = None
    expected_tco2e: float | None = None
    taxonomy_activity: str | None = None
    taxonomy_claims: tuple[str, ...] = ()
    organisation_id: Any = None

    @classmethod
    def from_dict(cls, data: dict, usd_rates: dict[str, float] = DEFAULT_USD_RATES) -> Need:
        """Build from a JSON-lines record; missing, null or odd values become unknowns."""
        amount, currency = _number(data.get("amount")), _key(data.get("currency"))
        amount_usd = _number(data.get("amount_usd"))
        technology = _key(data.get("technology"))
        return cls(
            id=data["id"],
            title=_text(data.get("title")),
            description=_text(data.get("description")),
            country=(_key(data.get("country")) or "").upper() or None,
            sector=_key(data.get("sector")) or TECHNOLOGY_SECTOR.get(technology or ""),
            technology=technology,
            amount=amount,
            currency=currency.upper() if currency else None,
            amount_usd=amount_usd
            if amount_usd is not None
            else to_usd(amount, currency, usd_rates),
            instruments=_keys(data.get("instruments")) or _keys(data.get("instrument")),
            tenor_years=_number(data.get("tenor_years")),
            stage=_key(data.get("stage")),
            capacity_mw=_number(data.get("capacity_mw")),
            year=_number(data.get("year")),
            expected_tco2e=_number(data.get("expected_tco2e")),
            taxonomy_activity=_key(data.get("taxonomy_activity")),
            taxonomy_claims=_keys(data.get("taxonomy_claims")),
            organisation_id=data.get("organisation_id"),
        )

    @property
    def currency_known(self) -> bool:
        """Whether the amount can be compared in USD (true when no amount is given)."""
        return self.amount is None or self.amount_usd is not None

    @property
    def region(self) -> str | None:
        """World Bank region of the need's country."""
        return region_of(self.country)

    @property
    def text(self) -> str:
        """Free text the text index sees."""
        return f"{self.title} {self.description}".strip()

    @property
    def taxonomy_tags(self) -> tuple[str, ...]:
        """Taxonomy requirements this need meets."""
        implied = ACTIVITY_REQUIREMENTS if self.taxonomy_activity else ()
        return tuple(dict.fromkeys((*self.taxonomy_claims, *sorted(implied))))


@dataclass(frozen=True)
class TrackDeal:
    """One earlier green-finance deal of a product's investor (any field may be unknown)."""

    country: str | None = None
    region: str | None = None
    technology: str | None = None
    sector: str | None = None
    year: float | None = None
    amount_usd: float | None = None
    co_financiers: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> TrackDeal | None:
        """Build from a track-record entry; None for anything that is not a mapping."""
        if not isinstance(data, dict):
            return None
        country = (_key(data.get("country")) or "").upper() or None
        technology = _key(data.get("technology"))
        return cls(
            country=country,
            region=_key(data.get("region")) or region_of(country),
            technology=technology,
            sector=_key(data.get("sector")) or TECHNOLOGY_SECTOR.get(technology or ""),
            year=_number(data.get("year")),
            amount_usd=_number(data.get("amount_usd")),
            co_financiers=tuple(str(c) for c in _keys(data.get("co_financiers"))),
        )


@lru_cache(maxsize=4096)  # few distinct mandates; an index build reads a million products
def _sectors_with(sectors: tuple[str, ...], technologies: tuple[str, ...]) -> tuple[str, ...]:
    implied = (TECHNOLOGY_SECTOR[t] for t in technologies if t in TECHNOLOGY_SECTOR)
    return tuple(dict.fromkeys((*sectors, *implied)))


def _track_record(value: Any) -> tuple[TrackDeal, ...]:
    items = value if isinstance(value, list | tuple) else ()
    return tuple(deal for deal in map(TrackDeal.from_dict, items) if deal is not None)


@dataclass
class Product:
    """A green-finance product and its mandate as the matcher sees it."""

    id: Any
    name: str = ""
    description: str = ""
    product_type: str | None = None
    ticket_min: float | None = None
    ticket_max: float | None = None
    currency: str | None = None
    ticket_min_usd: float | None = None
    ticket_max_usd: float | None = None
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    tenor_min: float | None = None
    tenor_max: float | None = None
    stages: tuple[str, ...] = ()
    min_tco2e: float | None = None
    taxonomy_requirements: tuple[str, ...] = ()
    investor_id: Any = None
    track_record: tuple[TrackDeal, ...] = ()

    @classmethod
    def from_dict(cls, data: dict, usd_rates: dict[str, float] = DEFAULT_USD_RATES) -> Product:
        """Build from a JSON-lines record; missing, null or odd values become unknowns."""
        currency = (_key(data.get("currency")) or "").upper() or None
        low, high = _number(data.get("ticket_min")), _number(data.get("ticket_max"))
        low_usd, high_usd = _number(data.get("ticket_min_usd")), _number(data.get("ticket_max_usd"))
        investor = data.get("investor_id")
        return cls(
            id=data["id"],
            name=_text(data.get("name")),
            description=_text(data.get("description")),
            product_type=_key(data.get("product_type")),
            ticket_min=low,
            ticket_max=high,
            currency=currency,
            ticket_min_usd=low_usd if low_usd is not None else to_usd(low, currency, usd_rates),
            ticket_max_usd=high_usd if high_usd is not None else to_usd(high, currency, usd_rates),
            countries=_upper(_keys(data.get("countries"))),
            regions=_keys(data.get("regions")),
            sectors=_keys(data.get("sectors")),
            technologies=_keys(data.get("technologies")),
            instruments=_keys(data.get("instruments")),
            tenor_min=_number(data.get("tenor_min")),
            tenor_max=_number(data.get("tenor_max")),
            stages=_keys(data.get("stages")),
            min_tco2e=_number(data.get("min_tco2e")),
            taxonomy_requirements=_keys(data.get("taxonomy_requirements")),
            investor_id=investor if investor is not None else data.get("organisation_id"),
            track_record=_track_record(data.get("track_record")),
        )

    @property
    def text(self) -> str:
        """Free text the text index sees."""
        return f"{self.name} {self.description}".strip()

    @property
    def currency_known(self) -> bool:
        """Whether the ticket can be compared in USD (true when no ticket is given)."""
        asked = self.ticket_min is not None or self.ticket_max is not None
        return not asked or self.ticket_min_usd is not None or self.ticket_max_usd is not None

    @property
    def sector_set(self) -> tuple[str, ...]:
        """Sectors named directly or through a technology."""
        if not self.technologies:
            return self.sectors  # already without repeats
        return _sectors_with(self.sectors, self.technologies)

    @property
    def instrument_set(self) -> tuple[str, ...]:
        """Instruments offered, counting the product type as one."""
        if not self.product_type or self.product_type in self.instruments:
            return self.instruments
        return (*self.instruments, self.product_type)

    @property
    def investor_key(self) -> Any:
        """Whom acceptance statistics by sector are kept for (the product itself if no investor)."""
        return self.investor_id if self.investor_id is not None else ("product", self.id)
