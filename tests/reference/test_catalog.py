"""The reference loaders read every CSV as written, with nothing filled in."""

from datetime import date
from decimal import Decimal

import pytest

from marketplace.reference import catalog

ZERO_FACTOR_COUNTRIES = {"AL", "BT", "CD", "SZ", "ET", "IS", "LS", "NP", "PY"}


def test_counts_match_the_data_readme():
    assert len(catalog.countries()) == 151
    assert len(catalog.grid_factor_rows()) == 233
    assert len(catalog.taxonomy_activities()) == 88
    assert len(catalog.icma_categories()) == 10
    assert len(catalog.china_catalogue()) == 6


def test_italy_is_the_only_exited_country():
    italy = catalog.countries()["IT"]
    assert italy.is_exited
    assert italy.exited == date(2023, 6, 12)
    assert italy.joined == date(2019, 3, 1)
    assert [c.iso2 for c in catalog.countries().values() if c.is_exited] == ["IT"]


def test_countries_without_a_joining_date_stay_none():
    undated = {c.iso2 for c in catalog.countries().values() if c.joined is None}
    assert undated == {"AT", "CG", "NE", "RU"}


def test_country_names_keep_iso_and_source_spelling():
    turkey = catalog.countries()["TR"]
    assert (turkey.name, turkey.source_name, turkey.iso3) == ("Türkiye", "Turkey", "TUR")
    assert catalog.countries()["CN"].note == "China itself (initiator), listed in source"
    assert catalog.countries()["PK"].note is None


def test_regions_are_the_six_world_bank_regions():
    assert catalog.regions() == (
        "East Asia & Pacific",
        "Europe & Central Asia",
        "Latin America & Caribbean",
        "Middle East & North Africa",
        "South Asia",
        "Sub-Saharan Africa",
    )


def test_grid_factors_are_exact_decimals():
    pakistan = catalog.grid_factors()["PK"]
    assert pakistan.cm_firm == Decimal("0.386")
    assert pakistan.cm_intermittent == Decimal("0.515")
    assert pakistan.om == Decimal("0.592")
    assert pakistan.factor("intermittent") == Decimal("0.515")
    assert pakistan.factor("firm") == Decimal("0.386")


def test_rows_without_iso_code_are_kept_but_not_keyed():
    unkeyed = [row.territory for row in catalog.grid_factor_rows() if row.iso2 is None]
    assert len(unkeyed) == 5
    assert "Memo:  EU 27" in unkeyed
    assert len(catalog.grid_factors()) == 228


def test_every_bri_country_has_a_grid_factor():
    assert set(catalog.countries()) <= set(catalog.grid_factors())


def test_nine_countries_have_zero_factors_not_missing_ones():
    zero = {iso2 for iso2, row in catalog.grid_factors().items() if row.cm_intermittent == 0}
    assert zero == ZERO_FACTOR_COUNTRIES
    nepal = catalog.grid_factors()["NP"]
    assert nepal.cm_firm == Decimal("0") and nepal.cm_firm is not None


def test_hong_kong_uses_the_shared_china_row():
    china = catalog.grid_factors()["CN"]
    assert "Hong Kong" in china.territory and "Hong Kong" in china.note
    assert "HK" not in catalog.grid_factors()
    assert catalog.grid_factor("HK") is china
    assert catalog.grid_factor(" hk ") is china


def test_grid_factor_of_unknown_code_is_none():
    assert catalog.grid_factor("XX") is None


def test_capacity_factors_are_irena_2021_with_2010():
    factors = catalog.capacity_factors()
    assert set(factors) == {
        "Bioenergy",
        "Geothermal",
        "Hydropower",
        "Solar PV",
        "Concentrating solar power (CSP)",
        "Onshore wind",
        "Offshore wind",
    }
    solar = factors["Solar PV"]
    assert (solar.percent_2021, solar.percent_2010) == (Decimal("17"), Decimal("14"))
    assert solar.fraction_2021 == Decimal("0.17")
    assert factors["Hydropower"].percent_2021 == Decimal("45")


def test_csp_keeps_its_few_plants_caveat():
    csp = catalog.capacity_factors()["Concentrating solar power (CSP)"]
    assert csp.percent_2021 == Decimal("80")
    assert "very few plants" in csp.status_2021


def test_quoted_fields_with_commas_are_read_whole():
    assert catalog.taxonomy_activities()["1.2"].name.startswith(
        "Rehabilitation and restoration of forests, including reforestation"
    )
    assert catalog.icma_categories()[8].name == (
        "Eco-efficient and/or circular economy adapted products, production technologies and "
        "processes"
    )


def test_single_digit_nace_division_is_padded():
    afforestation = catalog.taxonomy_activities()["1.1"]
    assert afforestation.nace_raw == "A2"
    assert afforestation.nace_codes_raw == ("A2",)
    assert afforestation.nace_codes == ("A02",)


@pytest.mark.parametrize(
    ("raw", "formatted"),
    [("A2", "A02"), ("D35.11", "D35.11"), ("C27.2", "C27.2"), ("F43", "F43"), ("F711", "F711")],
)
def test_format_nace(raw, formatted):
    assert catalog.format_nace(raw) == formatted


def test_multiple_nace_codes_are_split():
    solar = catalog.taxonomy_activities()["4.1"]
    assert solar.nace_codes == ("D35.11", "F42.22")
    assert len(catalog.taxonomy_activities()["3.5"].nace_codes) == 21


def test_four_activities_have_no_nace_code():
    without = {ref for ref, a in catalog.taxonomy_activities().items() if not a.nace_codes}
    assert without == {"2.1", "4.10", "4.11", "4.12"}


def test_contribution_types():
    activities = catalog.taxonomy_activities()
    assert activities["4.9"].contribution_type == "enabling"
    assert activities["3.7"].contribution_type == "transitional"
    assert activities["4.1"].contribution_type is None


def test_icma_categories_in_file_order():
    names = [category.name for category in catalog.icma_categories()]
    assert names[0] == "Renewable energy"
    assert names[-1] == "Green buildings"
    assert [category.seq for category in catalog.icma_categories()] == list(range(1, 11))


def test_china_catalogue_level1_in_both_languages():
    categories = catalog.china_catalogue()
    assert [c.code for c in categories] == ["1", "2", "3", "4", "5", "6"]
    assert (categories[2].name_zh, categories[2].name_en) == (
        "清洁能源产业",
        "Clean energy industry",
    )


@pytest.mark.parametrize("dataset", sorted(catalog.FILES))
def test_every_dataset_cites_its_source(dataset):
    cited = catalog.sources(dataset)
    assert cited and all(cited)


def test_grid_source_names_the_ifi_dataset():
    (source,) = catalog.sources("grid_factors")
    assert "Harmonized IFI Default Grid Factors 2021 v3.1" in source
