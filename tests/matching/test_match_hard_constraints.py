"""No suggestion breaks a hard constraint of the mandate, checked independently of the engine."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.matching.index import MatchingIndex
from marketplace.matching.records import DEFAULT_USD_RATES, TECHNOLOGY_SECTOR, Need, Product
from marketplace.matching.suggest import suggest_for_need, suggest_for_product

COUNTRIES = ["PK", "KZ", "VN", "KE", "EG", "ID"]
REGIONS = ["South Asia", "Europe & Central Asia", "East Asia & Pacific"]
SECTORS = ["solar", "wind", "hydro", "storage"]
CURRENCIES = ["USD", "CNY", "HKD", "EUR", "XYZ"]  # XYZ has no exchange rate

amounts = st.floats(1e5, 5e8)

needs = st.builds(
    dict,
    country=st.sampled_from(COUNTRIES) | st.none(),
    sector=st.sampled_from(SECTORS) | st.none(),
    amount=amounts | st.none(),
    currency=st.sampled_from(CURRENCIES),
    tenor_years=st.integers(1, 25) | st.none(),
    instrument=st.sampled_from(["green_loan", "guarantee", "project_equity"]),
)
products = st.builds(
    dict,
    countries=st.lists(st.sampled_from(COUNTRIES), max_size=3),
    regions=st.lists(st.sampled_from(REGIONS), max_size=1),
    sectors=st.lists(st.sampled_from(SECTORS), max_size=2),
    ticket_min=amounts,
    ticket_span=st.floats(1.0, 30.0),
    currency=st.sampled_from(CURRENCIES),
    tenor_min=st.integers(1, 10) | st.none(),
    tenor_span=st.integers(0, 15),
    product_type=st.sampled_from(["green_loan", "guarantee", "green_bond"]),
)


def _product(i: int, p: dict) -> Product:
    tenor_max = None if p["tenor_min"] is None else p["tenor_min"] + p["tenor_span"]
    fields = {k: v for k, v in p.items() if k not in {"ticket_span", "tenor_span"}}
    return Product.from_dict(
        {
            **fields,
            "id": f"p{i}",
            "ticket_max": p["ticket_min"] * p["ticket_span"],
            "tenor_max": tenor_max,
        }
    )


def _usd(amount, currency):
    rate = DEFAULT_USD_RATES.get(currency)
    return None if amount is None or rate is None else amount * rate


def breaks_a_hard_constraint(need: Need, product: Product, tolerance=0.2, years=1.0) -> list:
    """The hard constraints the pair breaks, worked out from the raw fields."""
    broken = []
    if need.amount is not None and _usd(need.amount, need.currency) is None:
        broken.append("currency")
    if _usd(product.ticket_min, product.currency) is None:
        broken.append("currency")
    geo = set(product.countries) | set(product.regions)
    if geo and need.country and not ({need.country, need.region} & geo):
        broken.append("country")
    sectors = set(product.sectors) | {TECHNOLOGY_SECTOR.get(t) for t in product.technologies}
    if product.sectors and need.sector and need.sector not in sectors:
        broken.append("sector")
    amount = _usd(need.amount, need.currency)
    low, high = (
        _usd(product.ticket_min, product.currency),
        _usd(product.ticket_max, product.currency),
    )
    known = amount is not None and low is not None
    if known and not low * (1 - tolerance) <= amount <= high * (1 + tolerance):
        broken.append("ticket")
    tenor, low_years = need.tenor_years, product.tenor_min
    if (
        None not in (tenor, low_years)
        and not low_years - years <= tenor <= product.tenor_max + years
    ):
        broken.append("tenor")
    return broken


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(needs, min_size=1, max_size=4), st.lists(products, min_size=1, max_size=25))
def test_no_suggestion_breaks_a_hard_constraint(need_dicts, product_dicts):
    need_records = [Need.from_dict({**n, "id": i}) for i, n in enumerate(need_dicts)]
    product_records = [_product(i, p) for i, p in enumerate(product_dicts)]
    index = MatchingIndex.build(need_records, product_records)
    by_id = {p.id: p for p in product_records}
    for need in need_records:
        for shown in suggest_for_need(index, need, k=5, explore=False):
            assert not breaks_a_hard_constraint(need, by_id[shown.id]), shown.explanation
    for product in product_records:
        for shown in suggest_for_product(index, product, k=5, explore=False):
            assert not breaks_a_hard_constraint(need_records[shown.id], product)
