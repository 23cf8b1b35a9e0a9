"""Typed, cached loaders for the reference CSVs in ``data/`` (provenance in data/README.md).

Pure Python on purpose: the app, migrations and seed scripts all read the same facts from here.
Nothing is filled in: an empty cell stays ``None`` so callers can say "not available".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")

FILES = {
    "countries": "bri_countries.csv",
    "grid_factors": "grid_emission_factors_ifi_2021.csv",
    "capacity_factors": "capacity_factors_irena.csv",
    "taxonomy_activities": "eu_taxonomy_mitigation_activities.csv",
    "icma_categories": "green_finance_principles.csv",
    "china_catalogue": "china_green_bond_catalogue_2021_level1.csv",
}

# Column keys of the IFI file -> GridFactor attribute (all in tCO2/MWh).
GRID_COLUMNS = {
    "firm": "cm_firm",
    "intermittent": "cm_intermittent",
    "energy_efficiency": "cm_energy_efficiency",
    "electricity_consumption": "cm_electricity_consumption",
    "operating_margin": "om",
}

# The IFI file has no Hong Kong row: its China row "covers PRC and Hong Kong together" (row note).
_SHARED_GRID_ROWS = {"HK": "CN"}

_GBP = "Green Bond Principles (GBP)"
_ELIGIBLE_CATEGORY = "eligible_green_project_category"
_SINGLE_DIGIT_DIVISION = re.compile(r"^([A-U])(\d)(?!\d)")


@dataclass(frozen=True)
class Country:
    """A Belt and Road country as listed by GFDC (Nedopil 2023), China included."""

    iso2: str
    iso3: str
    name: str
    source_name: str
    wb_region: str
    income_group: str
    joined: date | None
    exited: date | None
    note: str | None
    source: str

    @property
    def is_exited(self) -> bool:
        """Whether the source gives a (likely) exit date."""
        return self.exited is not None


@dataclass(frozen=True)
class GridFactor:
    """One row of the harmonised IFI default grid factors 2021, in tCO2/MWh."""

    territory: str
    iso2: str | None
    iso3: str | None
    cm_firm: Decimal
    cm_intermittent: Decimal
    cm_energy_efficiency: Decimal
    cm_electricity_consumption: Decimal
    om: Decimal
    note: str | None
    source: str

    def factor(self, column: str) -> Decimal:
        """The factor for a key of GRID_COLUMNS; 0 means no credit, not missing data."""
        return getattr(self, GRID_COLUMNS[column])


@dataclass(frozen=True)
class CapacityFactor:
    """IRENA global weighted-average capacity factor (%) of new utility-scale plants."""

    technology: str
    percent_2021: Decimal
    percent_2010: Decimal | None
    status_2021: str
    source: str

    @property
    def fraction_2021(self) -> Decimal:
        """The 2021 value as a fraction of nameplate hours."""
        return self.percent_2021 / 100


@dataclass(frozen=True)
class TaxonomyActivity:
    """An EU Taxonomy climate-change-mitigation activity with its NACE codes."""

    eu_activity_ref: str
    name: str
    eu_sector: str
    nace_raw: str
    nace_codes_raw: tuple[str, ...]
    nace_codes: tuple[str, ...]
    contribution_type: str | None
    source: str


@dataclass(frozen=True)
class IcmaCategory:
    """An eligible green project category of the ICMA Green Bond Principles."""

    seq: int
    name: str
    edition: str
    source: str


@dataclass(frozen=True)
class ChinaCategory:
    """A level-1 category of China's Green Bond Endorsed Projects Catalogue (2021)."""

    code: str
    name_zh: str
    name_en: str
    source: str


def _rows(dataset: str) -> Iterator[dict[str, str]]:
    """Yield a dataset's CSV rows with stripped cells (the csv module handles quoting)."""
    with (DATA_DIR / FILES[dataset]).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {key: (value or "").strip() for key, value in row.items()}


def _text(value: str) -> str | None:
    """An empty cell is None, never an empty string."""
    return value or None


def _date(value: str) -> date | None:
    """Parse an ISO date cell."""
    return date.fromisoformat(value) if value else None


def _decimal(value: str) -> Decimal | None:
    """Parse a number cell exactly, keeping the file's digits."""
    return Decimal(value) if value else None


def format_nace(code: str) -> str:
    """Write a NACE code with a two-digit division, as the file means it: "A2" -> "A02"."""
    return _SINGLE_DIGIT_DIVISION.sub(r"\g<1>0\g<2>", code.strip())


def split_nace(raw: str) -> tuple[str, ...]:
    """Split the file's comma-separated NACE cell; an empty cell gives no codes."""
    return tuple(code.strip() for code in raw.split(",") if code.strip())


def _contribution_type(value: str) -> str | None:
    """Map the source flag to "enabling" / "transitional", or None when neither is flagged."""
    flag = value.lower()
    return flag if flag in ("enabling", "transitional") else None


@cache
def countries() -> dict[str, Country]:
    """The BRI countries by ISO alpha-2, in file order."""
    return {row["iso2"]: _country(row) for row in _rows("countries")}


def _country(row: dict[str, str]) -> Country:
    return Country(
        iso2=row["iso2"],
        iso3=row["iso3"],
        name=row["country_name_iso"],
        source_name=row["country_name_source"],
        wb_region=row["wb_region"],
        income_group=row["wb_income_group"],
        joined=_date(row["likely_date_of_joining"]),
        exited=_date(row["likely_date_of_exit"]),
        note=_text(row["note"]),
        source=row["source"],
    )


@cache
def regions() -> tuple[str, ...]:
    """The World Bank regions of the BRI countries, sorted."""
    return tuple(sorted({country.wb_region for country in countries().values()}))


@cache
def grid_factor_rows() -> tuple[GridFactor, ...]:
    """Every row of the IFI file, including sub-national and memo rows without an ISO code."""
    return tuple(_grid_factor(row) for row in _rows("grid_factors"))


def _grid_factor(row: dict[str, str]) -> GridFactor:
    return GridFactor(
        territory=row["country_or_territory_source"],
        iso2=_text(row["iso2"]),
        iso3=_text(row["iso3"]),
        cm_firm=Decimal(row["cm_firm_energy_tco2_per_mwh"]),
        cm_intermittent=Decimal(row["cm_intermittent_energy_tco2_per_mwh"]),
        cm_energy_efficiency=Decimal(row["cm_energy_efficiency_tco2_per_mwh"]),
        cm_electricity_consumption=Decimal(row["cm_electricity_consumption_tco2_per_mwh"]),
        om=Decimal(row["om_tco2_per_mwh"]),
        note=_text(row["note"]),
        source=row["source"],
    )


@cache
def grid_factors() -> dict[str, GridFactor]:
    """The IFI rows that carry an ISO alpha-2 code, by that code."""
    return {row.iso2: row for row in grid_factor_rows() if row.iso2}


def grid_factor(iso2: str) -> GridFactor | None:
    """The IFI row that applies to a country or territory (Hong Kong -> the China row)."""
    code = iso2.strip().upper()
    return grid_factors().get(_SHARED_GRID_ROWS.get(code, code))


@cache
def capacity_factors() -> dict[str, CapacityFactor]:
    """IRENA 2021 global capacity factors by IRENA technology name (rows with a value only)."""
    values: dict[str, dict[str, dict[str, str]]] = {}
    for row in _rows("capacity_factors"):
        if row["metric"] == "capacity_factor" and row["region"] == "World" and row["value"]:
            values.setdefault(row["technology"], {})[row["year"]] = row
    return {
        name: _capacity_factor(name, years) for name, years in values.items() if "2021" in years
    }


def _capacity_factor(technology: str, years: dict[str, dict[str, str]]) -> CapacityFactor:
    latest, first = years["2021"], years.get("2010")
    return CapacityFactor(
        technology=technology,
        percent_2021=Decimal(latest["value"]),
        percent_2010=_decimal(first["value"]) if first else None,
        status_2021=latest["status"],
        source=latest["source"],
    )


@cache
def taxonomy_activities() -> dict[str, TaxonomyActivity]:
    """EU Taxonomy mitigation activities by activity reference ("4.1"), in file order."""
    return {row["eu_activity_ref"]: _activity(row) for row in _rows("taxonomy_activities")}


def _activity(row: dict[str, str]) -> TaxonomyActivity:
    codes = split_nace(row["nace_codes"])
    return TaxonomyActivity(
        eu_activity_ref=row["eu_activity_ref"],
        name=row["activity_name"],
        eu_sector=row["eu_sector"],
        nace_raw=row["nace_codes"],
        nace_codes_raw=codes,
        nace_codes=tuple(format_nace(code) for code in codes),
        contribution_type=_contribution_type(row["eu_contribution_type"]),
        source=row["source"],
    )


@cache
def icma_categories() -> tuple[IcmaCategory, ...]:
    """The ICMA GBP eligible green project categories, in the file's row order."""
    rows = _rows("icma_categories")
    return tuple(
        IcmaCategory(
            seq=int(row["seq"]), name=row["name"], edition=row["edition"], source=row["source"]
        )
        for row in rows
        if row["framework"] == _GBP and row["component_type"] == _ELIGIBLE_CATEGORY
    )


@cache
def china_catalogue() -> tuple[ChinaCategory, ...]:
    """The six level-1 categories of China's Green Bond Endorsed Projects Catalogue."""
    return tuple(
        ChinaCategory(
            code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"], source=row["source"]
        )
        for row in _rows("china_catalogue")
    )


_LOADERS = {
    "countries": countries,
    "grid_factors": grid_factor_rows,
    "capacity_factors": capacity_factors,
    "taxonomy_activities": taxonomy_activities,
    "icma_categories": icma_categories,
    "china_catalogue": china_catalogue,
}


def sources(dataset: str) -> tuple[str, ...]:
    """The distinct source citations of what a loader returns, for the UI to cite."""
    loaded = _LOADERS[dataset]()
    items = loaded.values() if isinstance(loaded, dict) else loaded
    return tuple(dict.fromkeys(item.source for item in items))
