"""Fixed vocabularies (keys only; the app supplies translated labels) and the technology map.

Every reference below names an entry of a file in ``data/`` (tests/reference/test_sectors.py checks
each one). The China catalogue file holds level 1 only, so a technology gets the level-1 category
whose name covers it, or None where that is not clear from the file.
"""

from __future__ import annotations

from dataclasses import dataclass

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

HUBS = ("beijing", "hong_kong", "other")

# What an investor may require of a need; a broker verifies the claim before publication.
TAXONOMY_REQUIREMENTS = (
    "icma_gbp_aligned",
    "lma_glp_aligned",
    "lma_sllp_aligned",
    "eu_taxonomy_aligned",
    "common_ground_taxonomy_aligned",
    "china_catalogue_aligned",
    "second_party_opinion",
    "annual_impact_report",
)

# Grid-factor column keys of catalog.GRID_COLUMNS used by the IFI avoided-emission method.
INTERMITTENT = "intermittent"
FIRM = "firm"

# ICMA GBP category names exactly as in green_finance_principles.csv.
_RENEWABLE = "Renewable energy"
_EFFICIENCY = "Energy efficiency"
_POLLUTION = "Pollution prevention and control"
_TRANSPORT = "Clean transportation"
_WATER = "Sustainable water and wastewater management"
_BUILDINGS = "Green buildings"

# China catalogue level-1 codes (china_green_bond_catalogue_2021_level1.csv).
_CLEAN_ENERGY = "3"
_INFRASTRUCTURE = "5"


@dataclass(frozen=True)
class Technology:
    """A technology and where it sits in each reference classification."""

    key: str
    sector: str
    icma_category: str
    eu_activity_refs: tuple[str, ...]  # the first is the default for a listing
    china_catalogue_code: str | None
    irena_technology: str | None  # None: IRENA publishes no capacity factor for it
    grid_column: str | None  # None: avoided grid electricity is not the right method


# fmt: off
_ALL = (
    Technology("solar_pv", "solar", _RENEWABLE, ("4.1",), _CLEAN_ENERGY, "Solar PV", INTERMITTENT),
    Technology("csp", "solar", _RENEWABLE, ("4.2",), _CLEAN_ENERGY,
               "Concentrating solar power (CSP)", INTERMITTENT),
    Technology("onshore_wind", "wind", _RENEWABLE, ("4.3",), _CLEAN_ENERGY,
               "Onshore wind", INTERMITTENT),
    Technology("offshore_wind", "wind", _RENEWABLE, ("4.3",), _CLEAN_ENERGY,
               "Offshore wind", INTERMITTENT),
    Technology("hydropower", "hydro", _RENEWABLE, ("4.5",), _CLEAN_ENERGY, "Hydropower", FIRM),
    Technology("green_hydrogen", "hydrogen", _RENEWABLE, ("3.10", "4.12"), _CLEAN_ENERGY,
               None, None),
    # The GBP list energy storage under energy efficiency; 3.4 is for battery factories.
    Technology("battery_storage", "storage", _EFFICIENCY, ("4.10", "3.4"), _CLEAN_ENERGY,
               None, None),
    # The taxonomy has no capture activity of its own: only transport (5.11) and storage (5.12).
    Technology("ccus", "ccus", _POLLUTION, ("5.11", "5.12"), None, None, None),
    Technology("e_mobility", "transport", _TRANSPORT, ("6.5", "6.3", "6.6", "6.15"),
               _INFRASTRUCTURE, None, None),
    Technology("rail", "transport", _TRANSPORT, ("6.14", "6.1", "6.2"), _INFRASTRUCTURE,
               None, None),
    Technology("green_buildings", "buildings", _BUILDINGS, ("7.1", "7.2", "7.7"),
               _INFRASTRUCTURE, None, None),
    Technology("water_management", "water", _WATER, ("5.1", "5.2", "5.3", "5.4"),
               _INFRASTRUCTURE, None, None),
)
# fmt: on

TECHNOLOGIES: dict[str, Technology] = {technology.key: technology for technology in _ALL}


def technologies_for(sector: str) -> tuple[str, ...]:
    """The technology keys of a sector, in vocabulary order."""
    if sector not in SECTORS:
        raise KeyError(sector)
    return tuple(key for key, technology in TECHNOLOGIES.items() if technology.sector == sector)


def sector_of(technology: str) -> str:
    """The sector key of a technology key."""
    return TECHNOLOGIES[technology].sector
