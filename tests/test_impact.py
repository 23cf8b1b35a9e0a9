"""Avoided-emission estimates against figures worked out by hand from the CSV values.

Inputs used below, read from the files:
- IRENA 2021 global capacity factors: Solar PV 17 %, onshore and offshore wind 39 %,
  hydropower 45 %, CSP 80 %.
- IFI 2021 combined margins (tCO2/MWh), intermittent / firm: Pakistan 0.515 / 0.386,
  Viet Nam 0.493, Kenya 0.462, China (incl. Hong Kong) 0.744, Indonesia firm 0.675,
  Egypt intermittent 0.498, Nepal and Ethiopia 0 / 0.
"""

from decimal import Decimal

import pytest

from marketplace.impact import CapacityFactorSource, Method, Reason, estimate_avoided_emissions

IFI_SOURCE_MARK = "Harmonized IFI Default Grid Factors 2021"
IRENA_SOURCE_MARK = "Renewable Power Generation Costs in 2021"


@pytest.mark.parametrize(
    ("technology", "iso2", "mw", "expected"),
    [
        # 100 x 8760 = 876,000 MWh; x 0.17 = 148,920 MWh; x 0.515 = 76,693.8 -> 76,694
        ("solar_pv", "PK", 100, Decimal("76694")),
        # 50 x 8760 = 438,000; x 0.17 = 74,460; x 0.493 = 36,708.78 -> 36,709
        ("solar_pv", "VN", 50, Decimal("36709")),
        # Nepal's factor is 0: 20 x 8760 x 0.17 x 0 = 0
        ("solar_pv", "NP", 20, Decimal("0")),
        # 50 x 8760 = 438,000; x 0.39 = 170,820; x 0.462 = 78,918.84 -> 78,919
        ("onshore_wind", "KE", 50, Decimal("78919")),
        # 80 x 8760 = 700,800; x 0.39 = 273,312; x 0.515 = 140,755.68 -> 140,756
        ("onshore_wind", "PK", 80, Decimal("140756")),
        # Ethiopia's factor is 0: 30 x 8760 x 0.39 x 0 = 0
        ("onshore_wind", "ET", 30, Decimal("0")),
        # 120 x 8760 = 1,051,200; x 0.45 = 473,040; x 0.386 = 182,593.44 -> 182,593
        ("hydropower", "PK", 120, Decimal("182593")),
        # 10 x 8760 = 87,600; x 0.45 = 39,420; x 0.675 = 26,608.5 -> 26,609 (half up)
        ("hydropower", "ID", 10, Decimal("26609")),
        # Nepal's factor is 0: 40 x 8760 x 0.45 x 0 = 0
        ("hydropower", "NP", 40, Decimal("0")),
        # 200 x 8760 = 1,752,000; x 0.39 = 683,280; x 0.744 = 508,360.32 -> 508,360
        ("offshore_wind", "CN", 200, Decimal("508360")),
    ],
)
def test_ifi_method_matches_hand_arithmetic(technology, iso2, mw, expected):
    estimate = estimate_avoided_emissions(technology, iso2, mw)
    assert estimate.method == Method.IFI_GRID_FACTOR
    assert estimate.tco2e_per_year == expected
    assert estimate.is_available
    assert estimate.capacity_factor_source == CapacityFactorSource.IRENA_2021


def test_solar_records_what_was_used():
    estimate = estimate_avoided_emissions("solar_pv", "pk", Decimal("100"))
    assert estimate.country_iso2 == "PK"
    assert estimate.capacity_mw == Decimal("100")
    assert estimate.capacity_factor == Decimal("0.17")
    assert (estimate.grid_factor, estimate.grid_factor_column) == (Decimal("0.515"), "intermittent")
    assert estimate.grid_factor_iso2 == "PK"
    assert estimate.reason is None
    assert IFI_SOURCE_MARK in estimate.sources[0]
    assert IRENA_SOURCE_MARK in estimate.sources[1]


def test_hydro_uses_the_firm_column():
    estimate = estimate_avoided_emissions("hydropower", "PK", 120)
    assert (estimate.grid_factor, estimate.grid_factor_column) == (Decimal("0.386"), "firm")


def test_zero_factor_is_a_real_zero_with_the_file_caveat():
    estimate = estimate_avoided_emissions("solar_pv", "NP", 20)
    assert estimate.is_available
    assert estimate.tco2e_per_year == 0
    assert estimate.grid_factor == 0
    assert any("source gives 0" in caveat for caveat in estimate.caveats)


def test_hong_kong_uses_the_china_row():
    # Same arithmetic as China: 200 x 8760 x 0.39 x 0.744 = 508,360.32 -> 508,360
    estimate = estimate_avoided_emissions("offshore_wind", "HK", 200)
    assert estimate.tco2e_per_year == Decimal("508360")
    assert estimate.country_iso2 == "HK"
    assert estimate.grid_factor_iso2 == "CN"
    assert "source row covers PRC and Hong Kong together" in estimate.caveats


def test_csp_default_carries_irena_caveat():
    # 25 x 8760 = 219,000; x 0.80 = 175,200; x 0.498 = 87,249.6 -> 87,250
    estimate = estimate_avoided_emissions("csp", "EG", 25)
    assert estimate.tco2e_per_year == Decimal("87250")
    assert any("very few plants" in caveat for caveat in estimate.caveats)


def test_owner_capacity_factor_overrides_irena():
    # 100 x 8760 = 876,000; x 0.20 = 175,200; x 0.515 = 90,228
    estimate = estimate_avoided_emissions("solar_pv", "PK", 100, owner_capacity_factor="0.20")
    assert estimate.tco2e_per_year == Decimal("90228")
    assert estimate.capacity_factor == Decimal("0.20")
    assert estimate.capacity_factor_source == CapacityFactorSource.OWNER
    assert len(estimate.sources) == 1 and IFI_SOURCE_MARK in estimate.sources[0]


def test_owner_figure_overrides_everything():
    estimate = estimate_avoided_emissions(
        "solar_pv", "PK", 100, owner_capacity_factor=0.2, owner_tco2e="12345.5"
    )
    assert estimate.method == Method.OWNER_FIGURE
    assert estimate.tco2e_per_year == Decimal("12346")
    assert estimate.capacity_factor is None and estimate.grid_factor is None


def test_owner_figure_works_where_the_grid_method_does_not():
    estimate = estimate_avoided_emissions("battery_storage", None, None, owner_tco2e=800)
    assert (estimate.method, estimate.tco2e_per_year) == (Method.OWNER_FIGURE, Decimal("800"))


@pytest.mark.parametrize(
    "technology",
    [
        "green_hydrogen",
        "battery_storage",
        "ccus",
        "e_mobility",
        "rail",
        "green_buildings",
        "water_management",
    ],
)
def test_technologies_without_grid_method_are_not_available(technology):
    estimate = estimate_avoided_emissions(technology, "PK", 100)
    assert estimate.method == Method.NOT_AVAILABLE
    assert estimate.reason == Reason.METHOD_NOT_APPLICABLE
    assert estimate.tco2e_per_year is None
    assert not estimate.is_available


SOLAR_PK_10MW = {"technology": "solar_pv", "country_iso2": "PK", "capacity_mw": 10}


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({**SOLAR_PK_10MW, "capacity_mw": None}, Reason.MISSING_CAPACITY),
        ({**SOLAR_PK_10MW, "capacity_mw": 0}, Reason.INVALID_CAPACITY),
        ({**SOLAR_PK_10MW, "capacity_mw": -5}, Reason.INVALID_CAPACITY),
        ({**SOLAR_PK_10MW, "country_iso2": None}, Reason.MISSING_COUNTRY),
        ({**SOLAR_PK_10MW, "country_iso2": "  "}, Reason.MISSING_COUNTRY),
        ({**SOLAR_PK_10MW, "country_iso2": "XX"}, Reason.NO_GRID_FACTOR),
        ({**SOLAR_PK_10MW, "technology": "nuclear"}, Reason.UNKNOWN_TECHNOLOGY),
        ({**SOLAR_PK_10MW, "owner_capacity_factor": 25}, Reason.INVALID_CAPACITY_FACTOR),
        ({**SOLAR_PK_10MW, "owner_capacity_factor": 0}, Reason.INVALID_CAPACITY_FACTOR),
        ({**SOLAR_PK_10MW, "owner_tco2e": -1}, Reason.INVALID_OWNER_FIGURE),
    ],
)
def test_not_available_paths(kwargs, reason):
    estimate = estimate_avoided_emissions(**kwargs)
    assert (estimate.method, estimate.reason) == (Method.NOT_AVAILABLE, reason)
    assert estimate.tco2e_per_year is None
    assert estimate.sources == ()


@pytest.mark.parametrize("bad", ["abc", float("nan"), "Infinity"])
def test_non_numbers_are_rejected(bad):
    with pytest.raises(ValueError):
        estimate_avoided_emissions("solar_pv", "PK", bad)


def test_method_keys_are_plain_strings():
    estimate = estimate_avoided_emissions("rail", "PK", 10)
    assert estimate.method == "not_available"
    assert estimate.reason == "method_not_applicable"
