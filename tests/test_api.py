"""The JSON API v1: keys as bearer tokens, the pages' visibility rules, problem documents,
cursor paging, UTF-8 Chinese, and its OpenAPI description."""

import logging
import re
from datetime import datetime
from decimal import Decimal

import pytest

from marketplace.extensions import db
from marketplace.models import (
    ApiKey,
    FinanceProduct,
    FinancingNeed,
    NeedStatus,
    ProductStatus,
    Role,
    User,
)
from marketplace.services.accounts import api_keys
from marketplace.services.matching import interests
from tests.factories import make_match, make_need, make_product, make_user

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def people(app):
    return {role.value: make_user(app, role=role) for role in Role}


@pytest.fixture
def key_of(app):
    """A new key of a user (read-only unless write=True): its plaintext."""

    def make(user, write=False):
        with app.app_context():
            owner = db.session.get(User, user.id)
            scopes = ("read", "write") if write else ("read",)
            return api_keys.create_key(owner, "test key", scopes)[1]

    return make


def get(client, path, key=None, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(path, headers=headers | kwargs.pop("headers", {}), **kwargs)


def assert_problem(response, status, slug):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"] == f"/api/v1/problems/{slug}"
    assert body["title"]
    return body


def test_openapi_document_describes_every_operation_with_its_problems(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    expected = {
        "/api/v1/me",
        "/api/v1/needs",
        "/api/v1/needs/{need_id}",
        "/api/v1/needs/{need_id}/suggestions",
        "/api/v1/products",
        "/api/v1/products/{product_id}",
        "/api/v1/products/{product_id}/suggestions",
    }
    assert expected <= set(document["paths"])
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"200", "401", "404"} <= set(operation["responses"])
    need = document["components"]["schemas"]["Need"]["properties"]
    assert need["amount"]["$ref"].endswith("/Money")
    money = document["components"]["schemas"]["Money"]["properties"]["amount"]
    assert money["type"] == "string" and money["pattern"]


def test_reference_page_is_served_here_and_translated(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/needs/{need_id}/suggestions" in page
    assert 'id="problem-revoked-key"' in page
    assert "cdn" not in page.lower() and '<script src="http' not in page
    chinese = client.get("/api/v1/docs", headers={"Accept-Language": "zh-CN"})
    assert "API 参考" in chinese.get_data(as_text=True)
    assert (
        client.get("/api/v1/problems/revoked-key")
        .headers["Location"]
        .endswith("/api/v1/docs#problem-revoked-key")
    )
    assert_problem(client.get("/api/v1/problems/no-such-type"), 404, "not-found")


def test_every_bad_credential_gets_a_401_problem(app, client, people, key_of):
    assert_problem(get(client, "/api/v1/me"), 401, "missing-key")
    assert get(client, "/api/v1/me").headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(get(client, "/api/v1/me", "gsr_not-a-key"), 401, "invalid-key")
    basic = client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(basic, 401, "missing-key")

    key = key_of(people["investor"])
    assert get(client, "/api/v1/me", key).status_code == 200
    with app.app_context():
        row = db.session.scalar(db.select(ApiKey).where(ApiKey.user_id == people["investor"].id))
        api_keys.revoke_key(db.session.get(User, people["investor"].id), row.id)
    assert_problem(get(client, "/api/v1/me", key), 401, "revoked-key")

    other = key_of(people["owner"])
    assert get(client, "/api/v1/me", other).status_code == 200
    with app.app_context():
        db.session.get(User, people["owner"].id).active = False
        db.session.commit()
    assert_problem(get(client, "/api/v1/me", other), 401, "inactive-user-key")


def test_me_names_the_user_and_the_key_and_records_its_use(app, client, people, key_of):
    key = key_of(people["investor"])
    body = get(client, "/api/v1/me", key).get_json()
    assert body["id"] == people["investor"].id and body["role"] == "investor"
    assert body["key"]["scopes"] == ["read"] and key.startswith(body["key"]["prefix"])
    assert key not in str(body)
    with app.app_context():
        row = db.session.scalar(db.select(ApiKey).where(ApiKey.user_id == people["investor"].id))
        assert row.last_used_at is not None


def test_a_browser_session_is_not_a_key(client, people, login_as):
    login_as(people["investor"])
    assert_problem(client.get("/api/v1/me"), 401, "missing-key")


def test_need_search_pages_with_cursors_and_shows_only_published_needs(app, client, people, key_of):
    owner = people["owner"]
    published = {
        make_need(app, owner, title_en=f"Solar {i}", status=NeedStatus.PUBLISHED).id
        for i in range(23)
    }
    draft = make_need(app, owner, title_en="Draft", status=NeedStatus.DRAFT)
    key = key_of(people["investor"])
    seen, cursor, pages = [], None, 0
    while True:
        query = {"cursor": cursor} if cursor else {}
        response = get(client, "/api/v1/needs", key, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["total"] == 23
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 2 and len(seen) == 23 and set(seen) == published
    assert draft.id not in seen
    item = body["items"][0]
    assert item["amount"] == {"amount": "40000000.00", "currency": "USD"}
    assert isinstance(item["amount"]["amount"], str)
    assert RFC3339_UTC.match(item["published_at"])
    assert item["url"].endswith(f"/needs/{item['id']}")
    assert item["organisation"] is None  # the owner did not choose to show it


def test_need_search_uses_the_search_pages_filters(app, client, people, key_of):
    owner = people["owner"]
    solar = make_need(app, owner, sector="solar", country_iso2="PK", status=NeedStatus.PUBLISHED)
    wind = make_need(
        app,
        owner,
        sector="wind",
        technology="onshore_wind",
        country_iso2="KZ",
        status=NeedStatus.PUBLISHED,
    )
    key = key_of(people["investor"])
    body = get(client, "/api/v1/needs", key, query_string={"sector": "wind"}).get_json()
    assert [item["id"] for item in body["items"]] == [wind.id]
    sectors = {facet["key"]: facet["count"] for facet in body["facets"]["sector"]}
    assert sectors["solar"] == 1 and sectors["wind"] == 1
    both = get(client, "/api/v1/needs", key, query_string={"country": ["PK", "KZ"]})
    assert {item["id"] for item in both.get_json()["items"]} == {solar.id, wind.id}


def test_bad_parameters_and_cursors_get_400_problems(client, people, key_of):
    key = key_of(people["investor"])
    body = assert_problem(
        get(client, "/api/v1/needs", key, query_string={"sort": "cheapest"}), 400, "invalid-request"
    )
    assert body["errors"][0]["parameter"] == "sort"
    unknown = get(client, "/api/v1/needs", key, query_string={"colour": "green"})
    assert_problem(unknown, 400, "invalid-request")
    assert_problem(
        get(client, "/api/v1/needs", key, query_string={"cursor": "bm9wZQ"}), 400, "invalid-request"
    )
    assert_problem(get(client, "/api/v1/needs/99999999", key), 404, "not-found")


def test_reading_one_listing_follows_the_pages_visibility(app, client, people, key_of):
    owner, investor = people["owner"], people["investor"]
    draft = make_need(app, owner, status=NeedStatus.DRAFT)
    other_owner = make_user(app, role=Role.OWNER)
    assert get(client, f"/api/v1/needs/{draft.id}", key_of(owner)).status_code == 200
    assert get(client, f"/api/v1/needs/{draft.id}", key_of(people["broker"])).status_code == 200
    assert_problem(get(client, f"/api/v1/needs/{draft.id}", key_of(investor)), 404, "not-found")
    assert_problem(get(client, f"/api/v1/needs/{draft.id}", key_of(other_owner)), 404, "not-found")
    paused = make_product(app, investor, status=ProductStatus.PAUSED)
    assert get(client, f"/api/v1/products/{paused.id}", key_of(investor)).status_code == 200
    assert_problem(get(client, f"/api/v1/products/{paused.id}", key_of(owner)), 404, "not-found")


def test_product_search_is_for_the_roles_that_search_products_on_the_site(
    app, client, people, key_of
):
    product = make_product(app, people["investor"], ticket_min=Decimal("12500000.50"))
    listed = get(client, "/api/v1/products", key_of(people["owner"])).get_json()
    assert [item["id"] for item in listed["items"]] == [product.id]
    assert listed["items"][0]["ticket_min"] == {"amount": "12500000.50", "currency": "USD"}
    refused = get(client, "/api/v1/products", key_of(people["investor"]))
    assert_problem(refused, 403, "forbidden")


def test_suggestions_are_for_the_listings_own_organisation_and_brokers(app, client, people, key_of):
    need = make_need(app, people["owner"], status=NeedStatus.PUBLISHED)
    product = make_product(app, people["investor"])
    reasons = [{"code": "ticket_fits"}, {"code": "no_such_reason"}]
    make_match(app, need, product, score=0.73, rank_for_product=1, explanation={"reasons": reasons})
    mine = get(client, f"/api/v1/products/{product.id}/suggestions", key_of(people["investor"]))
    [item] = mine.get_json()["items"]
    assert item["need_id"] == need.id and item["chance"] == pytest.approx(0.73)
    assert item["tier"] == "good" and item["rank"] == 1 and len(item["reasons"]) == 1
    assert (
        get(client, f"/api/v1/needs/{need.id}/suggestions", key_of(people["broker"])).status_code
        == 200
    )
    stranger = make_user(app, role=Role.INVESTOR)
    refused = get(client, f"/api/v1/products/{product.id}/suggestions", key_of(stranger))
    assert_problem(refused, 403, "forbidden")
    assert_problem(
        get(client, f"/api/v1/needs/{need.id}/suggestions", key_of(people["investor"])),
        403,
        "forbidden",
    )


def test_chinese_in_utf8_and_errors_in_the_key_owners_language(app, client, key_of):
    owner = make_user(app, role=Role.OWNER, locale="zh_Hans")
    need = make_need(
        app, owner, title_en="Solar park", title_zh="信德省光伏电站", status=NeedStatus.PUBLISHED
    )
    key = key_of(owner)
    response = get(client, f"/api/v1/needs/{need.id}", key)
    assert response.get_json()["title"] == "信德省光伏电站"
    assert "信德省光伏电站".encode() in response.get_data()  # raw UTF-8, no \u escapes
    missing = get(client, "/api/v1/needs/99999999", key).get_json()
    assert re.search(r"[\u4e00-\u9fff]", missing["title"])


def test_keys_never_reach_the_logs(app, client, people, key_of, caplog):
    key = key_of(people["investor"])
    with caplog.at_level(logging.DEBUG):
        get(client, "/api/v1/me", key)
        get(client, "/api/v1/needs/99999999", key)
        get(client, "/api/v1/me", key + "x")
    assert key not in caplog.text


def test_times_are_utc(app, client, people, key_of):
    key = key_of(people["investor"])
    body = get(client, "/api/v1/me", key).get_json()
    parsed = datetime.fromisoformat(body["key"]["last_used_at"].replace("Z", "+00:00"))
    assert parsed.utcoffset().total_seconds() == 0


def test_rate_limit_per_key_with_ratelimit_headers(app, client, people, key_of):
    first, second = key_of(people["investor"]), key_of(people["owner"])
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [get(client, "/api/v1/me", first) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [200, 200, 200]
        assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
        assert answers[0].headers["RateLimit-Limit"] == "3"
        assert 0 <= int(answers[0].headers["RateLimit-Reset"]) <= 60
        assert_problem(answers[3], 429, "rate-limited")
        assert answers[3].headers["Retry-After"]
        assert get(client, "/api/v1/me", second).status_code == 200  # its own count
    finally:
        app.config["API_RATE_LIMIT"] = "600 per minute"


def test_interests_are_my_organisations_own(app, client, people, key_of):
    need = make_need(app, people["owner"], status=NeedStatus.PUBLISHED)
    product = make_product(app, people["investor"])
    with app.app_context():
        investor = db.session.get(User, people["investor"].id)
        interests.express(
            investor,
            db.session.get(FinancingNeed, need.id),
            db.session.get(FinanceProduct, product.id),
            "想了解更多",
        )
    mine = get(client, "/api/v1/interests", key_of(people["investor"])).get_json()["items"]
    assert [(i["need_id"], i["product_id"], i["message"]) for i in mine] == [
        (need.id, product.id, "想了解更多")
    ]
    assert mine[0]["status"] == "open" and mine[0]["match_status"] == "suggested"
    assert get(client, "/api/v1/interests", key_of(people["owner"])).get_json()["items"] == []
    assert_problem(get(client, "/api/v1/interests", key_of(people["broker"])), 403, "forbidden")
