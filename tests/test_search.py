"""Faceted search of needs and products, and saved searches: on SQLite and PostgreSQL alike."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import FinanceProduct, NeedStatus, ProductStatus, Role, SavedSearch, utcnow
from marketplace.services.search import product_search, search
from tests.conftest import post_form
from tests.factories import make_need, make_product, make_saved_search, make_user

DAY = timedelta(days=1)


@pytest.fixture
def people(app):
    return {role.value: make_user(app, role=role) for role in Role}


@pytest.fixture
def needs(app, people):
    """Four visible needs that differ in every facet, and three that must never be found."""
    owner, now = people["owner"], utcnow()
    visible = {
        "sindh": make_need(
            app,
            owner,
            title_en="Solar park in Sindh",
            title_zh="信德省光伏电站",
            summary_en="Utility-scale photovoltaic plant.",
            sector="solar",
            country_iso2="PK",
            amount=Decimal("40000000"),
            amount_usd=Decimal("40000000"),
            tenor_years=12,
            stage="financing",
            instruments=["green_loan"],
            status=NeedStatus.PUBLISHED,
            published_at=now - 3 * DAY,
            estimated_tco2e_per_year=Decimal("50000"),
        ),
        "steppe": make_need(
            app,
            owner,
            title_en="Steppe wind farm",
            title_zh="草原风电场",
            sector="wind",
            technology="onshore_wind",
            country_iso2="KZ",
            currency="CNY",
            amount=Decimal("1050000000"),
            amount_usd=Decimal("150000000"),
            tenor_years=15,
            stage="construction",
            instruments=["green_bond", "project_equity"],
            status=NeedStatus.PUBLISHED,
            published_at=now - 2 * DAY,
            estimated_tco2e_per_year=Decimal("200000"),
        ),
        "gandaki": make_need(
            app,
            owner,
            title_en=None,
            title_zh="尼泊尔径流式水电站",
            summary_zh="径流式电站，设有鱼道。",
            sector="hydro",
            technology="hydropower",
            country_iso2="NP",
            currency="EUR",
            amount=Decimal("230000000"),
            amount_usd=Decimal("250000000"),
            tenor_years=20,
            stage="permitting",
            instruments=["green_loan", "guarantee"],
            status=NeedStatus.IN_NEGOTIATION,
            published_at=now - DAY,
            estimated_tco2e_per_year=Decimal("90000"),
        ),
        "rooftop": make_need(
            app,
            owner,
            title_en="Rooftop solar for factories",
            sector="solar",
            country_iso2="VN",
            currency="HKD",
            amount=Decimal("39000000"),
            amount_usd=Decimal("5000000"),
            tenor_years=5,
            stage="concept",
            instruments=["sustainability_linked_loan"],
            status=NeedStatus.PUBLISHED,
            published_at=now - 4 * DAY,
        ),
    }
    for status in (NeedStatus.DRAFT, NeedStatus.SUBMITTED, NeedStatus.WITHDRAWN):
        make_need(
            app,
            owner,
            title_en=f"Hidden {status.value} solar park 光伏",
            sector="solar",
            country_iso2="PK",
            instruments=["green_loan"],
            status=status,
        )
    return {name: need.id for name, need in visible.items()}


def run(app, target="needs", page=1, **args):
    """The service's answer for query-string arguments, as the page would ask for it."""
    with app.app_context():
        geo = search.geography()
        filters = search.parse_filters(
            {k: v if isinstance(v, list) else [v] for k, v in args.items()}, target, geo
        )
        find = search.search_needs if target == "needs" else product_search.search_products
        return find(filters, page, geo)


def ids(result) -> list[int]:
    return [item.id for item in result.items]


def counts(result, facet) -> dict[str, int]:
    return {value.key: value.count for value in result.facets[facet]}


# --- access ---------------------------------------------------------------------------------


def test_owner_cannot_search_needs_and_anonymous_must_sign_in(app, client, login_as, people):
    assert client.get("/search/needs").status_code == 302
    assert "/auth/login" in client.get("/search/needs").headers["Location"]
    login_as(people["owner"])
    assert client.get("/search/needs").status_code == 403
    assert client.get("/search/products").status_code == 200


@pytest.mark.parametrize("role", ["investor", "broker", "admin"])
def test_investors_and_staff_search_needs(app, client, login_as, people, needs, role):
    login_as(people[role])
    page = client.get("/search/needs").get_data(as_text=True)
    assert "<title>Search financing needs" in page
    assert f'href="/needs/{needs["sindh"]}"' in page
    assert client.get("/search/products").status_code == (403 if role == "investor" else 200)


# --- full text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("wind", ["steppe"]),
        ("SOLAR", ["sindh", "rooftop"]),
        ("solar park", ["sindh"]),
        ("photovoltaic", ["sindh"]),
        ("park factories", []),
    ],
)
def test_english_full_text(app, needs, q, expected):
    assert sorted(ids(run(app, q=q))) == sorted(needs[name] for name in expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("光伏电站", ["sindh"]),
        ("光伏", ["sindh"]),  # two characters: shorter than a trigram
        ("风电", ["steppe"]),
        ("水电", ["gandaki"]),  # the need has a Chinese title only
        ("鱼道", ["gandaki"]),  # found in the Chinese summary
        ("电站，设有", ["gandaki"]),  # full-width punctuation is kept as typed
        ("信德省 光伏", ["sindh"]),
    ],
)
def test_chinese_full_text(app, needs, q, expected):
    assert ids(run(app, q=q)) == [needs[name] for name in expected]


def test_like_wildcards_in_the_query_are_taken_literally(app, needs):
    assert run(app, q="%").total == 0
    assert run(app, q="_").total == 0
    assert run(app, q="Solar_park").total == 0


def test_drafts_submitted_and_withdrawn_needs_never_appear(app, client, login_as, people, needs):
    assert run(app).total == 4
    assert run(app, q="Hidden").total == 0
    assert sum(counts(run(app), "sector").values()) == 4
    login_as(people["investor"])
    page = client.get("/search/needs?q=solar").get_data(as_text=True)
    assert "Solar park in Sindh" in page and "Hidden" not in page


# --- facets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facet", "key", "expected"),
    [
        ("sector", "solar", ["sindh", "rooftop"]),
        ("country", "KZ", ["steppe"]),
        ("region", "South Asia", ["sindh", "gandaki"]),
        ("instrument", "green_loan", ["sindh", "gandaki"]),
        ("stage", "construction", ["steppe"]),
        ("currency", "EUR", ["gandaki"]),
        ("amount", "lt10m", ["rooftop"]),
        ("amount", "10m-50m", ["sindh"]),
        ("amount", "50m-200m", ["steppe"]),
        ("amount", "200m-1b", ["gandaki"]),
        ("tenor", "le5", ["rooftop"]),
        ("tenor", "11-15", ["sindh", "steppe"]),
        ("tenor", "gt15", ["gandaki"]),
    ],
)
def test_each_facet_filters(app, needs, facet, key, expected):
    result = run(app, **{facet: key})
    assert sorted(ids(result)) == sorted(needs[name] for name in expected)
    assert result.total == len(expected)
    assert counts(result, facet)[key] == len(expected)


def test_facet_counts_without_filters(app, needs):
    result = run(app)
    assert counts(result, "sector") == {"solar": 2, "wind": 1, "hydro": 1}
    assert counts(result, "country") == {"PK": 1, "KZ": 1, "NP": 1, "VN": 1}
    assert counts(result, "region") == {
        "South Asia": 2,
        "Europe & Central Asia": 1,
        "East Asia & Pacific": 1,
    }
    assert counts(result, "instrument") == {
        "green_loan": 2,
        "green_bond": 1,
        "project_equity": 1,
        "guarantee": 1,
        "sustainability_linked_loan": 1,
    }
    assert counts(result, "stage") == {
        "concept": 1,
        "permitting": 1,
        "financing": 1,
        "construction": 1,
    }
    assert counts(result, "currency") == {"USD": 1, "CNY": 1, "HKD": 1, "EUR": 1}
    assert counts(result, "amount") == {"lt10m": 1, "10m-50m": 1, "50m-200m": 1, "200m-1b": 1}
    assert counts(result, "tenor") == {"le5": 1, "11-15": 2, "gt15": 1}


def test_drill_down_counts_leave_out_the_facets_own_filter(app, needs):
    result = run(app, sector="solar")
    assert counts(result, "sector") == {"solar": 2, "wind": 1, "hydro": 1}  # other sectors stay
    assert counts(result, "country") == {"PK": 1, "VN": 1}
    assert counts(result, "instrument") == {"green_loan": 1, "sustainability_linked_loan": 1}

    result = run(app, sector="solar", region="South Asia")
    assert ids(result) == [needs["sindh"]]
    assert counts(result, "sector") == {"solar": 1, "hydro": 1}
    assert counts(result, "region") == {"South Asia": 1, "East Asia & Pacific": 1}
    assert counts(result, "country") == {"PK": 1}  # only countries in the chosen region


def test_values_of_one_facet_widen_and_facets_narrow(app, needs):
    assert run(app, sector=["solar", "wind"]).total == 3
    result = run(app, sector=["solar", "wind"], tenor="11-15", q="farm")
    assert ids(result) == [needs["steppe"]]
    assert counts(result, "tenor") == {"11-15": 1}
    assert counts(result, "sector")["wind"] == 1 and counts(result, "sector")["solar"] == 0


def test_facet_links_show_counts_and_toggle_values(app, client, login_as, people, needs):
    login_as(people["investor"])
    page = client.get("/search/needs?sector=solar").get_data(as_text=True)
    assert re.search(
        r'href="/search/needs\?sector=solar&amp;sector=wind">Wind</a>\s*'
        r'<span class="badge[^"]*">1<',
        page,
    )
    assert re.search(r'<a href="/search/needs" aria-current="true"', page)  # removes the filter
    assert "2 results" in page


# --- sorting and pages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("newest", ["gandaki", "steppe", "sindh", "rooftop"]),
        ("amount", ["gandaki", "steppe", "sindh", "rooftop"]),
        ("amount_asc", ["rooftop", "sindh", "steppe", "gandaki"]),
        ("tco2e", ["steppe", "gandaki", "sindh", "rooftop"]),
        ("tco2e_per_usd", ["steppe", "sindh", "gandaki", "rooftop"]),
        ("nonsense", ["gandaki", "steppe", "sindh", "rooftop"]),
    ],
)
def test_sort_orders(app, needs, sort, order):
    assert ids(run(app, sort=sort)) == [needs[name] for name in order]


def test_pagination(app, client, login_as, people):
    owner, now = people["owner"], utcnow()
    for i in range(25):
        make_need(
            app,
            owner,
            title_en=f"Wind farm {i}",
            sector="wind",
            technology="onshore_wind",
            status=NeedStatus.PUBLISHED,
            published_at=now - i * timedelta(hours=1),
        )
    first, second = run(app), run(app, page=2)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (25, 2, 20, 5)
    assert not set(ids(first)) & set(ids(second))
    assert run(app, page=99).page == 2  # past the end: the last page
    login_as(people["investor"])
    page = client.get("/search/needs?sector=wind&page=2").get_data(as_text=True)
    assert 'rel="prev" href="/search/needs?page=1&amp;sector=wind"' in page
    assert "Wind farm 24" in page and "Wind farm 0<" not in page


# --- URL round trip and bad input -----------------------------------------------------------


def test_filters_round_trip_through_the_url(app, client, login_as, people, needs):
    query = (
        "q=solar&sector=solar&sector=wind&country=PK&region=South+Asia&instrument=green_loan"
        "&stage=financing&currency=USD&amount=10m-50m&tenor=11-15&sort=amount"
    )
    with app.app_context():
        filters = search.parse_filters(parse_qs(query), "needs", search.geography())
        again = search.parse_filters(
            parse_qs(urlencode(filters.to_params(), doseq=True)), "needs", search.geography()
        )
    assert again == filters
    assert filters.values("sector") == ("solar", "wind") and filters.sort == "amount"
    login_as(people["investor"])
    page = client.get("/search/needs?" + query).get_data(as_text=True)
    assert f'href="/needs/{needs["sindh"]}"' in page
    hidden = re.search(r'name="query" type="hidden" value="([^"]*)"', page).group(1)
    assert parse_qs(hidden.replace("&amp;", "&")) == parse_qs(query)


@pytest.mark.parametrize(
    "query",
    [
        "page=-3",
        "page=abc",
        "page=" + "9" * 40,
        "page=1.5",
        "sort=garbage",
        "sector=unknown",
        "country=ZZ",
        "country=pk'--",
        "region=Atlantis",
        "amount=huge",
        "tenor=",
        "q=%01solar",
        "q=" + "光" * 5000,
        "q=%25%5C_",
        "q=a+b+c+d+e+f+g+h+i",
        "type=green_loan",
        "sector=solar&sector=solar",
        "page=2&page=x",
        "q=%ED%A0%80",
        "financed_country=ZZ",
        "financed_country=pk'--&financed_technology=nuclear",
        "financed_technology=" + "x" * 5000,
        "financed_technology=onshore_wind&financed_technology=onshore_wind",
    ],
)
def test_bad_parameters_never_fail(app, client, login_as, people, needs, query):
    login_as(people["investor"])
    assert client.get("/search/needs?" + query).status_code == 200
    broker = app.test_client()
    post_form(
        broker, "/auth/login", {"email": people["broker"].email, "password": "correct-horse-9"}
    )
    assert broker.get("/search/products?" + query).status_code == 200


@pytest.mark.parametrize("query", ["instrument=%00", "q=%00%01solar"])
def test_nul_characters_are_a_clear_400(app, client, login_as, people, needs, query):
    """PostgreSQL cannot store or compare a NUL character, so the request is refused up front."""
    login_as(people["investor"])
    response = client.get("/search/needs?" + query)
    assert response.status_code == 400
    assert "characters that are not valid" in response.get_data(as_text=True)


def test_unknown_values_are_ignored(app, needs):
    result = run(app, sector=["unknown", "wind"], country="ZZ", region="Atlantis", stage="x")
    assert ids(result) == [needs["steppe"]]
    assert result.filters.chosen == {"sector": ("wind",)}
    assert search.parse_page("-3") == 1 and search.parse_page("x") == 1


# --- products -------------------------------------------------------------------------------


def product(app, investor, **fields):
    """make_product, then the mandate fields it does not take."""
    made = make_product(
        app,
        investor,
        name_en=fields.pop("name_en"),
        product_type=fields.pop("product_type", "green_loan"),
        status=fields.pop("status", ProductStatus.ACTIVE),
    )
    with app.app_context():
        record = db.session.get(FinanceProduct, made.id)
        for name, value in fields.items():
            setattr(record, name, value)
        db.session.commit()
    return made.id


@pytest.fixture
def products(app, people):
    investor = people["investor"]
    made = {
        "loan": product(
            app,
            investor,
            name_en="Silk Road solar loan",
            name_zh="丝路光伏贷款",
            sectors=["solar"],
            regions=["South Asia"],
        ),
        "bond": product(
            app,
            investor,
            name_en="Kazakh wind bond",
            product_type="green_bond",
            sectors=["wind"],
            countries=["KZ"],
            currency="EUR",
        ),
        "any": product(
            app, investor, name_en="Open mandate guarantee", product_type="guarantee", sectors=[]
        ),
    }
    product(app, investor, name_en="Paused solar loan", status=ProductStatus.PAUSED)
    product(app, investor, name_en="Draft solar loan", status=ProductStatus.DRAFT)
    return made


def test_products_search_facets_and_text(app, client, login_as, people, products):
    result = run(app, "products")
    assert sorted(ids(result)) == sorted(products.values())
    assert counts(result, "type") == {"green_loan": 1, "green_bond": 1, "guarantee": 1}
    assert counts(result, "sector")["solar"] == 2  # the open mandate accepts every sector
    assert counts(result, "region")["Europe & Central Asia"] == 2  # KZ, and the open mandate
    assert counts(result, "ticket") == {"10m-50m": 3, "50m-200m": 3}
    assert counts(result, "tenor") == {"le5": 3, "6-10": 3, "11-15": 3}
    assert ids(run(app, "products", region="South Asia", type="green_loan")) == [products["loan"]]
    assert ids(run(app, "products", q="光伏")) == [products["loan"]]
    assert run(app, "products", currency="EUR").total == 1
    login_as(people["owner"])
    page = client.get("/search/products?sector=wind").get_data(as_text=True)
    assert f'href="/products/{products["bond"]}"' in page and "Paused" not in page


# --- saved searches -------------------------------------------------------------------------


def test_save_list_and_delete_a_search(app, client, login_as, people, needs):
    login_as(people["investor"])
    page = "/search/needs?sector=solar&region=South+Asia&bogus=1&sector=nope"
    response = post_form(
        client,
        "/search/saved",
        {
            "name": "Solar, South Asia",
            "frequency": "daily",
            "target": "needs",
            "query": "sector=solar&region=South+Asia&sector=nope",
        },
        page=page,
    )
    assert response.status_code == 302
    listing = client.get("/search/saved").get_data(as_text=True)
    assert "Solar, South Asia" in listing and "Daily email" in listing
    link = re.search(r'href="/search/needs\?([^"]+)">Solar, South Asia<', listing).group(1)
    assert parse_qs(link.replace("&amp;", "&")) == {"sector": ["solar"], "region": ["South Asia"]}
    with app.app_context():
        saved = db.session.scalar(select(SavedSearch))
        assert saved.filters == {"sector": ["solar"], "region": ["South Asia"]}
        assert saved.frequency.value == "daily" and saved.user_id == people["investor"].id
    response = post_form(client, f"/search/saved/{saved.id}/delete", {}, page="/search/saved")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(SavedSearch)) is None


def test_someone_elses_saved_search_is_not_found(app, client, login_as, people):
    other = make_saved_search(app, people["broker"])
    login_as(people["investor"])
    assert "Solar in South Asia" not in client.get("/search/saved").get_data(as_text=True)
    response = post_form(client, f"/search/saved/{other.id}/delete", {}, page="/search/saved")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(SavedSearch, other.id) is not None


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"name": "", "frequency": "daily", "target": "needs", "query": ""}, 400),
        ({"name": "x" * 121, "frequency": "daily", "target": "needs", "query": ""}, 400),
        ({"name": "Odd", "frequency": "hourly", "target": "needs", "query": ""}, 400),
        ({"name": "Odd", "frequency": "daily", "target": "deals", "query": ""}, 400),
    ],
)
def test_the_save_form_is_validated(app, client, login_as, people, form, status):
    login_as(people["investor"])
    response = post_form(client, "/search/saved", form, page="/search/needs")
    assert response.status_code == status
    assert "The search was not saved" in response.get_data(as_text=True)


def test_owners_save_product_searches_only_without_email(app, client, login_as, people):
    login_as(people["owner"])
    response = post_form(
        client,
        "/search/saved",
        {"name": "Needs", "frequency": "daily", "target": "needs", "query": ""},
        page="/search/products",
    )
    assert response.status_code == 403
    response = post_form(
        client,
        "/search/saved",
        {"name": "Loans", "frequency": "daily", "target": "products", "query": "type=green_loan"},
        page="/search/products",
    )
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.scalar(select(SavedSearch))
        assert (saved.target, saved.frequency.value) == ("products", "never")
