"""Who may call which API operation: one table, every operation of the OpenAPI document in it
(a new operation without an entry fails), each role and keys of another organisation; where the
site has a page for the same record, the page answers the same."""

import pytest

from marketplace.extensions import db
from marketplace.models import NeedStatus, ProductStatus, Role, User
from marketplace.services.accounts import api_keys
from tests.factories import make_match, make_need, make_product, make_user

CALLERS = ("owner", "investor", "broker", "admin", "other_owner", "other_investor")
EVERYONE = dict.fromkeys(CALLERS, 200)
INSIDERS_OF_NEED = {"owner": 200, "broker": 200, "admin": 200}
INSIDERS_OF_PRODUCT = {"investor": 200, "broker": 200, "admin": 200}


def only(insiders: dict, others: int) -> dict:
    return {caller: insiders.get(caller, others) for caller in CALLERS}


# (method path, which record) → expected status per caller.
ACCESS = {
    ("GET /api/v1/me", None): EVERYONE,
    ("GET /api/v1/interests", None): only(
        {"owner": 200, "investor": 200, "other_owner": 200, "other_investor": 200}, 403
    ),
    ("GET /api/v1/needs", None): EVERYONE,
    ("GET /api/v1/needs/{need_id}", "published"): EVERYONE,
    ("GET /api/v1/needs/{need_id}", "draft"): only(INSIDERS_OF_NEED, 404),
    ("GET /api/v1/needs/{need_id}/suggestions", "published"): only(INSIDERS_OF_NEED, 403),
    ("GET /api/v1/needs/{need_id}/suggestions", "draft"): only(INSIDERS_OF_NEED, 404),
    ("GET /api/v1/products", None): {
        **dict.fromkeys(CALLERS, 200),
        "investor": 403,
        "other_investor": 403,
    },
    ("GET /api/v1/products/{product_id}", "active"): EVERYONE,
    ("GET /api/v1/products/{product_id}", "paused"): only(INSIDERS_OF_PRODUCT, 404),
    ("GET /api/v1/products/{product_id}/suggestions", "active"): only(INSIDERS_OF_PRODUCT, 403),
    ("GET /api/v1/products/{product_id}/suggestions", "paused"): only(INSIDERS_OF_PRODUCT, 404),
}
PAGES = {
    "GET /api/v1/needs/{need_id}": "/needs/{need_id}",
    "GET /api/v1/products/{product_id}": "/products/{product_id}",
}


@pytest.fixture
def world(app):
    roles = {
        "owner": Role.OWNER,
        "investor": Role.INVESTOR,
        "broker": Role.BROKER,
        "admin": Role.ADMIN,
        "other_owner": Role.OWNER,
        "other_investor": Role.INVESTOR,
    }
    users = {name: make_user(app, role=role) for name, role in roles.items()}
    owner, investor = users["owner"], users["investor"]
    records = {
        "published": make_need(app, owner, status=NeedStatus.PUBLISHED),
        "draft": make_need(app, owner, status=NeedStatus.DRAFT),
        "active": make_product(app, investor),
        "paused": make_product(app, investor, status=ProductStatus.PAUSED),
    }
    make_match(app, records["published"], records["active"])
    with app.app_context():
        keys = {
            name: api_keys.create_key(db.session.get(User, user.id), "access", ["read"])[1]
            for name, user in users.items()
        }
    return users, records, keys


def _url(path: str, record) -> str:
    if record is None:
        return path
    return path.replace("{need_id}", str(record.id)).replace("{product_id}", str(record.id))


def test_every_operation_of_the_document_has_an_entry(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
    }
    assert operations == {operation for operation, _record in ACCESS}
    for expected in ACCESS.values():
        assert set(expected) == set(CALLERS)


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_gets_what_the_table_says(world, client, caller):
    _users, records, keys = world
    headers = {"Authorization": f"Bearer {keys[caller]}"}
    for (operation, which), expected in ACCESS.items():
        method, path = operation.split(" ", 1)
        url = _url(path, records.get(which))
        response = client.open(url, method=method, headers=headers)
        assert response.status_code == expected[caller], (caller, operation, which)
        if response.status_code != 200:
            assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("caller", CALLERS)
def test_pages_answer_the_same_as_the_api(world, app, caller, login_as):
    users, records, keys = world
    client = login_as(users[caller])
    for (operation, which), expected in ACCESS.items():
        if operation not in PAGES:
            continue
        page = client.get(_url(PAGES[operation], records[which]))
        assert page.status_code == expected[caller], (caller, operation, which)
