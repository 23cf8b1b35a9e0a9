"""Every route × every role: the expected status is written down, so a new route must be added.

GET is checked for every endpoint. Endpoints that change state are also POSTed with a valid CSRF
token and an empty form, to show that the wrong role is refused before any validation.
"""
import pytest

from marketplace.models import NeedStatus, OrgKind, Role
from tests.conftest import csrf_from
from tests.factories import make_document, make_need, make_org, make_product, make_user

ROLES = ("anonymous", "owner", "investor", "broker", "admin")
LOGIN = 302  # anonymous users are sent to the sign-in page
OK, FORBIDDEN, NOT_ALLOWED = 200, 403, 405


def everyone(status):
    return dict.fromkeys(ROLES, status)


def only(*roles, anonymous=LOGIN, ok=OK):
    table = {role: (ok if role in roles else FORBIDDEN) for role in ROLES}
    table["anonymous"] = anonymous
    return table


SIGNED_IN = {"anonymous": LOGIN, "owner": OK, "investor": OK, "broker": OK, "admin": OK}
GUEST_ONLY = {"anonymous": OK, "owner": 302, "investor": 302, "broker": 302, "admin": 302}

# endpoint -> expected GET status per role. Keep in step with the app: the test fails otherwise.
EXPECTED_GET = {
    "public.index": everyone(OK),
    "public.healthz": everyone(OK),
    "auth.login": GUEST_ONLY,
    "auth.register": everyone(OK),
    "auth.forgot_password": everyone(OK),
    "auth.reset_password": everyone(302),  # an invalid token sends you to ask for a new link
    "auth.profile": SIGNED_IN,
    "auth.logout": everyone(NOT_ALLOWED),
    "auth.change_password": everyone(NOT_ALLOWED),
    "auth.set_language": everyone(NOT_ALLOWED),
    "owners.home": only("owner"),
    "investors.home": only("investor"),
    "brokers.home": only("broker", "admin"),
    "brokers.organisations_list": only("broker", "admin"),
    "brokers.organisation_detail": only("broker", "admin"),
    "admin.home": only("admin"),
    "admin.create_user": only("admin"),
    "admin.edit_user": only("admin"),
    "owners.new_need": only("owner"),
    "owners.edit_need": only("owner"),
    "owners.need_action": everyone(NOT_ALLOWED),
    "owners.upload_document": everyone(NOT_ALLOWED),
    "owners.delete_document": everyone(NOT_ALLOWED),
    "investors.new_product": only("investor"),
    "investors.edit_product": only("investor"),
    "investors.product_action": everyone(NOT_ALLOWED),
    "public.need_detail": everyone(OK),
    "public.product_detail": SIGNED_IN,
    "public.download_document": {"anonymous": LOGIN, "owner": OK, "investor": FORBIDDEN,
                                 "broker": OK, "admin": OK},
    "brokers.needs_to_review": only("broker", "admin"),
    "brokers.need_decision": everyone(NOT_ALLOWED),
    "admin.fx_rates": only("admin"),
    # access-table: add new endpoints above this line
}

# endpoint -> expected POST status per role (valid CSRF token, empty form).
EXPECTED_POST = {
    "auth.logout": {"anonymous": LOGIN, "owner": 302, "investor": 302, "broker": 302, "admin": 302},
    "brokers.organisation_detail": only("broker", "admin"),
    "admin.create_user": only("admin"),
    "admin.edit_user": only("admin"),
    "owners.new_need": only("owner"),
    "owners.edit_need": only("owner"),
    "owners.need_action": only("owner"),
    "owners.upload_document": only("owner"),
    "owners.delete_document": only("owner"),
    "investors.new_product": only("investor"),
    "investors.edit_product": only("investor"),
    "investors.product_action": only("investor"),
    "brokers.need_decision": only("broker", "admin"),
    "admin.fx_rates": only("admin"),
    # access-post-table: add new endpoints above this line
}

SKIPPED = {"static", "bootstrap.static"}


@pytest.fixture
def world(app):
    """One user per role, and a record of every kind the URLs point at."""
    users = {role.value: make_user(app, role=role) for role in Role}
    need = make_need(app, users["owner"], status=NeedStatus.PUBLISHED)
    product = make_product(app, users["investor"])
    other = make_org(app, OrgKind.SPONSOR)
    document = make_document(app, need, users["owner"])
    return {"users": users, "need": need, "product": product, "org": other, "document": document}


def url_args(world) -> dict:
    """Arguments for routes that take some; unknown arguments fail the test loudly."""
    return {
        "org_id": world["org"].id, "user_id": world["users"]["owner"].id,
        "need_id": world["need"].id, "product_id": world["product"].id, "token": "not-a-token",
        "document_id": world["document"].id,
    }


# Routes with a choice in the path: the first allowed value is used.
ACTIONS = {"owners.need_action": "submit", "investors.product_action": "pause",
           "brokers.need_decision": "publish"}


def build(app, endpoint, world) -> str:
    rule = next(app.url_map.iter_rules(endpoint))
    values = {**url_args(world), "action": ACTIONS.get(endpoint)}
    args = {name: values[name] for name in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **args)


def client_for(app, role, world, login):
    client = app.test_client()
    if role != "anonymous":
        login(client, world["users"][role])
    return client


def _login(client, user):
    page = client.get("/auth/login").get_data(as_text=True)
    response = client.post("/auth/login", data={"email": user.email, "password": "correct-horse-9",
                                                "csrf_token": csrf_from(page)})
    assert response.status_code == 302


def test_every_endpoint_has_an_expectation(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - SKIPPED
    missing = endpoints - EXPECTED_GET.keys()
    assert not missing, f"add these endpoints to EXPECTED_GET: {sorted(missing)}"
    stale = EXPECTED_GET.keys() - endpoints
    assert not stale, f"these endpoints no longer exist: {sorted(stale)}"


def test_state_changing_endpoints_have_a_post_expectation(app):
    posting = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    posting -= {"auth.login", "auth.register", "auth.forgot_password", "auth.reset_password",
                "auth.profile", "auth.change_password", "auth.set_language"} | SKIPPED
    missing = posting - EXPECTED_POST.keys()
    assert not missing, f"add these endpoints to EXPECTED_POST: {sorted(missing)}"


@pytest.mark.parametrize("role", ROLES)
def test_get_access_for_role(app, world, role):
    client = client_for(app, role, world, _login)
    failures = []
    for endpoint, expected in EXPECTED_GET.items():
        status = client.get(build(app, endpoint, world)).status_code
        if status != expected[role]:
            failures.append(f"{endpoint}: {status} (expected {expected[role]})")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_post_access_for_role(app, world, role):
    client = client_for(app, role, world, _login)
    token = csrf_from(client.get("/auth/register").get_data(as_text=True))
    failures = []
    for endpoint, expected in EXPECTED_POST.items():
        status = client.post(build(app, endpoint, world), data={"csrf_token": token}).status_code
        if expected[role] == OK:
            ok = status in (200, 302, 400, 409)
        else:
            ok = status == expected[role]
        if not ok:
            failures.append(f"{endpoint}: {status} (expected {expected[role]})")
        if endpoint == "auth.logout" and role != "anonymous":
            client = client_for(app, role, world, _login)
            token = csrf_from(client.get("/auth/register").get_data(as_text=True))
    assert not failures, "\n".join(failures)
