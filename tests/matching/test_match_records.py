"""Records read from JSON lines tolerate missing, null and unknown values."""

import pytest

from marketplace.matching.records import DEFAULT_USD_RATES, Need, Product, region_of, to_usd


def test_region_comes_from_the_bri_country_list():
    assert region_of("KZ") == "Europe & Central Asia"
    assert region_of("pk") == "South Asia"
    assert region_of("US") is None
    assert region_of(None) is None


def test_amounts_convert_with_the_given_rates():
    need = Need.from_dict({"id": 1, "amount": 1000, "currency": "cny"}, {"CNY": 0.5})
    assert need.amount_usd == 500
    assert to_usd(10, "EUR", DEFAULT_USD_RATES) == pytest.approx(10 * DEFAULT_USD_RATES["EUR"])


def test_unknown_currency_leaves_usd_unknown_and_flags_it():
    need = Need.from_dict({"id": 1, "amount": 1000, "currency": "XYZ"})
    assert need.amount_usd is None and not need.currency_known
    assert Need.from_dict({"id": 2}).currency_known


@pytest.mark.parametrize(
    "record",
    [
        {"id": "n-1"},
        {"id": 7, "amount": None, "tenor_years": "ten", "instrument": None, "sector": 3},
        {"id": 8, "amount": "12.5e6", "currency": "USD", "instrument": ["green_bond", None]},
        {"id": 9, "amount": float("nan"), "country": "", "stage": "someday"},
    ],
)
def test_need_from_odd_records(record):
    need = Need.from_dict(record)
    assert need.id == record["id"]
    assert need.tenor_years is None or isinstance(need.tenor_years, float)


def test_need_sector_falls_back_to_the_technology_sector():
    need = Need.from_dict({"id": 1, "technology": "offshore_wind", "instrument": "green_loan"})
    assert need.sector == "wind" and need.instruments == ("green_loan",)


def test_taxonomy_activity_meets_the_taxonomy_requirements():
    need = Need.from_dict({"id": 1, "taxonomy_activity": "4.1", "taxonomy_claims": ["x"]})
    assert set(need.taxonomy_tags) == {"x", "eu_taxonomy_aligned", "common_ground_taxonomy_aligned"}


def test_product_from_odd_record():
    product = Product.from_dict(
        {
            "id": "p",
            "countries": ["kz", None, "KZ"],
            "regions": "South Asia",
            "technologies": ["solar_pv", "warp_drive"],
            "ticket_min": "x",
            "ticket_max": 5e6,
            "currency": "HKD",
            "product_type": "guarantee",
            "instruments": None,
        }
    )
    assert product.countries == ("KZ",)
    assert product.regions == ("South Asia",)
    assert product.sector_set == ("solar",)
    assert product.instrument_set == ("guarantee",)
    assert product.ticket_min_usd is None
    assert product.ticket_max_usd == pytest.approx(5e6 * DEFAULT_USD_RATES["HKD"])


def test_product_investor_defaults_to_organisation_then_product():
    assert Product.from_dict({"id": 1, "organisation_id": 4}).investor_key == 4
    assert Product.from_dict({"id": 1}).investor_key == ("product", 1)


def test_track_record_is_read_tolerantly():
    product = Product.from_dict(
        {
            "id": "P1",
            "track_record": [
                {
                    "country": "pk",
                    "technology": "onshore_wind",
                    "year": 2014,
                    "amount_usd": 120000000,
                    "co_financiers": ["P7", None, 8],
                },
                {"country": None, "region": None, "technology": None, "sector": "solar"},
                "not a deal",
                None,
            ],
        }
    )
    first, second = product.track_record
    assert (first.country, first.region, first.sector) == ("PK", "South Asia", "wind")
    assert (first.year, first.amount_usd, first.co_financiers) == (2014, 120e6, ("P7", "8"))
    assert (second.country, second.region, second.sector) == (None, None, "solar")
    assert second.year is None


def test_product_without_track_record_has_none():
    assert Product.from_dict({"id": 1}).track_record == ()
    assert Product.from_dict({"id": 1, "track_record": None}).track_record == ()
    assert Product.from_dict({"id": 1, "track_record": "x"}).track_record == ()
