"""Every technology mapping points at an entry that exists in the reference files."""

import ast
from pathlib import Path

import pytest

import marketplace.impact
from marketplace.reference import catalog, sectors
from marketplace.reference.sectors import TECHNOLOGIES

TECHNOLOGY_KEYS = [
    "solar_pv",
    "csp",
    "onshore_wind",
    "offshore_wind",
    "hydropower",
    "green_hydrogen",
    "battery_storage",
    "ccus",
    "e_mobility",
    "rail",
    "green_buildings",
    "water_management",
]


def test_vocabulary_keys():
    expected_sectors = "solar wind hydro hydrogen storage ccus transport buildings water"
    assert list(sectors.SECTORS) == expected_sectors.split()
    assert list(TECHNOLOGIES) == TECHNOLOGY_KEYS
    assert sectors.CURRENCIES == ("USD", "CNY", "HKD", "EUR")
    assert sectors.HUBS == ("beijing", "hong_kong", "other")
    assert len(sectors.INSTRUMENTS) == 8 and "carbon_credit_offtake" in sectors.INSTRUMENTS
    assert sectors.STAGES[0] == "concept" and sectors.STAGES[-1] == "operation"


@pytest.mark.parametrize(
    "vocabulary",
    ["SECTORS", "INSTRUMENTS", "STAGES", "CURRENCIES", "HUBS", "TAXONOMY_REQUIREMENTS"],
)
def test_vocabularies_have_no_duplicates(vocabulary):
    keys = getattr(sectors, vocabulary)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("key", TECHNOLOGY_KEYS)
def test_mapping_points_at_existing_entries(key):
    technology = TECHNOLOGIES[key]
    assert technology.key == key
    assert technology.sector in sectors.SECTORS
    assert technology.icma_category in {c.name for c in catalog.icma_categories()}
    assert technology.eu_activity_refs
    assert set(technology.eu_activity_refs) <= set(catalog.taxonomy_activities())
    codes = {c.code for c in catalog.china_catalogue()}
    assert technology.china_catalogue_code is None or technology.china_catalogue_code in codes
    irena = technology.irena_technology
    assert irena is None or irena in catalog.capacity_factors()
    assert technology.grid_column in (None, *catalog.GRID_COLUMNS)


@pytest.mark.parametrize("key", TECHNOLOGY_KEYS)
def test_grid_method_has_a_default_capacity_factor(key):
    technology = TECHNOLOGIES[key]
    if technology.grid_column is not None:
        assert technology.irena_technology is not None


@pytest.mark.parametrize(
    ("key", "refs", "activity_word"),
    [
        ("solar_pv", ("4.1",), "solar photovoltaic"),
        ("csp", ("4.2",), "concentrated solar power"),
        ("onshore_wind", ("4.3",), "wind power"),
        ("offshore_wind", ("4.3",), "wind power"),
        ("hydropower", ("4.5",), "hydropower"),
        ("green_hydrogen", ("3.10", "4.12"), "hydrogen"),
        ("battery_storage", ("4.10", "3.4"), "Storage of electricity"),
        ("ccus", ("5.11", "5.12"), "CO2"),
        ("e_mobility", ("6.5", "6.3", "6.6", "6.15"), "passenger cars"),
        ("rail", ("6.14", "6.1", "6.2"), "rail"),
        ("green_buildings", ("7.1", "7.2", "7.7"), "buildings"),
        ("water_management", ("5.1", "5.2", "5.3", "5.4"), "water"),
    ],
)
def test_default_taxonomy_activity_is_the_named_one(key, refs, activity_word):
    technology = TECHNOLOGIES[key]
    assert technology.eu_activity_refs == refs
    assert activity_word in catalog.taxonomy_activities()[refs[0]].name


@pytest.mark.parametrize(
    ("key", "column"),
    [
        ("solar_pv", "intermittent"),
        ("csp", "intermittent"),
        ("onshore_wind", "intermittent"),
        ("offshore_wind", "intermittent"),
        ("hydropower", "firm"),
        ("battery_storage", None),
        ("ccus", None),
        ("green_buildings", None),
    ],
)
def test_grid_columns_follow_the_ifi_convention(key, column):
    assert TECHNOLOGIES[key].grid_column == column


def test_technologies_for_and_sector_of():
    assert sectors.technologies_for("solar") == ("solar_pv", "csp")
    assert sectors.technologies_for("transport") == ("e_mobility", "rail")
    assert sectors.sector_of("offshore_wind") == "wind"
    assert all(sectors.technologies_for(sector) for sector in sectors.SECTORS)
    with pytest.raises(KeyError):
        sectors.technologies_for("nuclear")


@pytest.mark.parametrize("module", [catalog, sectors, marketplace.impact])
def test_reference_modules_do_not_import_the_app_stack(module):
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    nodes = list(ast.walk(tree))
    imported = {
        alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module for node in nodes if isinstance(node, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in imported if name}
    assert not roots & {"flask", "flask_sqlalchemy", "sqlalchemy", "wtforms", "flask_babel"}
