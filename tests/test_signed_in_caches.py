"""Caches of signed-in pages: the interest form's own listings (per organisation and language)
and the countries searches filter on."""

import re

import pytest

from marketplace.extensions import db
from marketplace.models import (
    Country,
    FinanceProduct,
    NeedStatus,
    Organisation,
    ProductStatus,
    Role,
)
from tests.conftest import post_form
from tests.factories import make_need, make_product, make_user


@pytest.fixture
def need(app):
    owner = make_user(app, Role.OWNER)
    return make_need(app, owner, title_en="Balochistan wind", status=NeedStatus.PUBLISHED)


def _signed_in(app, user):
    client = app.test_client()
    answer = post_form(client, "/auth/login", {"email": user.email, "password": "correct-horse-9"})
    assert answer.status_code == 302
    return client


def _offered(client, need) -> list[str]:
    """The names in the need page's "Offer" list."""
    page = client.get(f"/needs/{need.id}").text
    select = re.search(r'<select[^>]*name="own_listing"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r">([^<]*)</option>", select.group(1)) if select else []


def _set(app, product, **values):
    with app.app_context():
        record = db.session.get(FinanceProduct, product.id)
        for name, value in values.items():
            setattr(record, name, value)
        db.session.commit()


def test_a_new_renamed_or_paused_product_shows_in_the_offer_list_at_once(app, need):
    investor = make_user(app, Role.INVESTOR)
    client = _signed_in(app, investor)
    loan = make_product(app, investor, name_en="Green project loan")
    assert _offered(client, need) == ["Green project loan"]  # now cached
    bond = make_product(app, investor, name_en="Climate bond")
    assert sorted(_offered(client, need)) == ["Climate bond", "Green project loan"]
    _set(app, loan, name_en="Green project loan II")
    assert sorted(_offered(client, need)) == ["Climate bond", "Green project loan II"]
    _set(app, bond, status=ProductStatus.PAUSED)
    assert _offered(client, need) == ["Green project loan II"]


def test_another_organisation_never_sees_the_cached_list(app, need):
    first = make_user(app, Role.INVESTOR)
    second = make_user(app, Role.INVESTOR)
    make_product(app, first, name_en="First fund's loan")
    make_product(app, second, name_en="Second fund's bond")
    first_client, second_client = _signed_in(app, first), _signed_in(app, second)
    assert _offered(first_client, need) == ["First fund&#39;s loan"]
    assert _offered(second_client, need) == ["Second fund&#39;s bond"]
    colleague = make_user(app, Role.INVESTOR, organisation=_org_of(app, first))
    assert _offered(_signed_in(app, colleague), need) == ["First fund&#39;s loan"]


def _org_of(app, user):
    with app.app_context():
        return db.session.get(Organisation, user.organisation_id)


def test_each_language_gets_its_own_list(app, need):
    investor = make_user(app, Role.INVESTOR)
    make_product(app, investor, name_en="Green project loan", name_zh="绿色项目贷款")
    client = _signed_in(app, investor)
    assert _offered(client, need) == ["Green project loan"]
    post_form(client, "/auth/language", {"locale": "zh_Hans", "next": "/"})
    assert _offered(client, need) == ["绿色项目贷款"]


def test_an_investor_without_active_products_gets_no_form_and_visitors_none(app, need):
    investor = make_user(app, Role.INVESTOR)
    make_product(app, investor, name_en="Draft loan", status=ProductStatus.DRAFT)
    assert _offered(_signed_in(app, investor), need) == []
    assert _offered(app.test_client(), need) == []


def test_a_country_added_to_the_reference_table_is_a_filter_at_once(app):
    """The countries searches filter on are cached too, until a country is written."""
    client = _signed_in(app, make_user(app, Role.INVESTOR))
    assert "country=QZ" not in _saved_query(client)  # an unknown country is dropped
    with app.app_context():
        db.session.add(
            Country(iso2="QZ", iso3="QZZ", name="Qzland", wb_region="South Asia", source="test")
        )
        db.session.commit()
    assert "country=QZ" in _saved_query(client)


def _saved_query(client) -> str:
    """The search the save-search form would store (its filters, as the page understood them)."""
    page = client.get("/search/needs?country=QZ").text
    return re.search(r'<input[^>]*name="query"[^>]*value="([^"]*)"', page).group(1)


def test_the_cached_save_search_form_carries_each_investors_own_token_and_saves(app, need):
    first, second = make_user(app, Role.INVESTOR), make_user(app, Role.INVESTOR)
    first_page = _signed_in(app, first).get("/search/needs?sector=wind").text  # now cached
    client = _signed_in(app, second)
    page = client.get("/search/needs?sector=wind").text
    save_form = page.split('id="save-heading"')[1]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', save_form).group(1)
    assert token not in first_page
    query = re.search(r'<input[^>]*name="query"[^>]*value="([^"]*)"', page).group(1)
    answer = client.post(
        "/search/saved",
        data={"csrf_token": token, "name": "Wind", "frequency": "weekly"}
        | {"target": "needs", "query": query},
    )
    assert answer.status_code == 302
    saved = client.get("/search/saved").text
    assert "Wind" in saved and "sector=wind" in saved
