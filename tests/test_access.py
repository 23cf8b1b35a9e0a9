"""Every route × every role: the expected status is written down, so a new route must be added.

GET is checked for every endpoint. Endpoints that change state are also POSTed with a valid CSRF
token and an empty form, to show that the wrong role is refused before any validation.
"""

import pytest
from sqlalchemy import select

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import Conversation, MatchStatus, NeedStatus, OrgKind, Role
from tests.conftest import csrf_from
from tests.factories import (
    make_document,
    make_match,
    make_need,
    make_org,
    make_payment,
    make_product,
    make_saved_search,
    make_track_deal,
    make_user,
)

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
    "public.liveness": everyone(OK),
    "auth.login": GUEST_ONLY,
    "auth.register": everyone(OK),
    "auth.forgot_password": everyone(OK),
    "auth.reset_password": everyone(302),  # an invalid token sends you to ask for a new link
    "auth.confirm_email": everyone(302),  # an invalid token: a message, then home or sign-in
    "auth.resend_confirmation": everyone(NOT_ALLOWED),
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
    "public.download_document": SIGNED_IN,  # the investor here was introduced to the need
    "brokers.needs_to_review": only("broker", "admin"),
    "brokers.need_decision": everyone(NOT_ALLOWED),
    "admin.fx_rates": only("admin"),
    "brokers.review_queue": only("broker", "admin"),
    "brokers.pipeline": only("broker", "admin"),
    "brokers.decide": everyone(NOT_ALLOWED),
    "brokers.bulk_decide": everyone(NOT_ALLOWED),
    "brokers.advance": everyone(NOT_ALLOWED),
    "brokers.close_won": everyone(NOT_ALLOWED),
    "brokers.close_lost": everyone(NOT_ALLOWED),
    "deals.my_deals": {
        "anonymous": LOGIN,
        "owner": OK,
        "investor": OK,
        "broker": 302,
        "admin": 302,
    },
    "deals.match_detail": SIGNED_IN,
    "deals.conversation": SIGNED_IN,
    "deals.notifications": SIGNED_IN,
    "deals.respond": everyone(NOT_ALLOWED),
    "deals.express_interest": everyone(NOT_ALLOWED),
    "billing.history": SIGNED_IN,
    "billing.receipt": {
        "anonymous": LOGIN,
        "owner": OK,
        "investor": FORBIDDEN,
        "broker": FORBIDDEN,
        "admin": OK,
    },
    "billing.pay_listing_fee": only("owner"),
    "billing.checkout_success": SIGNED_IN,
    "billing.checkout_cancel": SIGNED_IN,
    "billing.membership": only("investor"),
    "billing.membership_portal": everyone(NOT_ALLOWED),
    "billing.listing_fees": only("broker", "admin"),
    "billing.waive_listing_fee": only("broker", "admin"),
    "billing.success_fee": only("broker", "admin"),
    "billing.admin_payments": only("admin"),
    "billing.admin_payment": only("admin"),
    "billing.fees": only("admin"),
    "stripe_webhook.receive": everyone(NOT_ALLOWED),
    "brokers.ranker": only("broker", "admin"),
    "brokers.retrain": everyone(NOT_ALLOWED),
    "brokers.training_status": only("broker", "admin"),
    "brokers.activate_version": everyone(NOT_ALLOWED),
    "search.needs": only("investor", "broker", "admin"),
    "search.products": only("owner", "broker", "admin"),
    "search.saved": SIGNED_IN,
    "search.delete_saved": everyone(NOT_ALLOWED),
    "auth.request_verification": everyone(NOT_ALLOWED),
    "brokers.taxonomy_claim": everyone(NOT_ALLOWED),
    "public.browse_needs": everyone(OK),
    "brokers.reopen_organisation": everyone(NOT_ALLOWED),
    "auth.mfa_verify": everyone(302),  # no pending sign-in: back to the sign-in page, or home
    "auth.mfa_enrol": SIGNED_IN,
    "auth.mfa_settings": SIGNED_IN,
    "auth.mfa_recovery_codes": everyone(NOT_ALLOWED),
    "auth.mfa_disable": everyone(NOT_ALLOWED),
    "admin.reset_mfa": everyone(NOT_ALLOWED),
    "investors.track_record": only("investor"),
    # staff read any investor's record; an investor is sent to its own page (another's is 403)
    "investors.organisation_track_record": {
        "anonymous": LOGIN,
        "owner": FORBIDDEN,
        "investor": 302,
        "broker": OK,
        "admin": OK,
    },
    "investors.new_track_deal": only("investor"),
    "investors.edit_track_deal": only("investor"),
    "investors.delete_track_deal": everyone(NOT_ALLOWED),
    "investors.import_track_record": only("investor"),
    "investors.track_record_template": only("investor"),
    "auth.create_api_key": everyone(NOT_ALLOWED),
    "auth.revoke_api_key": everyone(NOT_ALLOWED),
    # The JSON API takes bearer keys only: a signed-in browser gets the same 401 as anyone.
    "api.me": everyone(401),
    "api.list_interests": everyone(401),
    "api.list_needs": everyone(401),
    "api.get_need": everyone(401),
    "api.need_suggestions": everyone(401),
    "api.list_products": everyone(401),
    "api.get_product": everyone(401),
    "api.product_suggestions": everyone(401),
    "api.openapi_json": everyone(OK),
    "api.reference": everyone(OK),
    "api.problem_type": everyone(302),
    # access-table: add new endpoints above this line
}

# endpoint -> expected POST status per role (valid CSRF token, empty form).
EXPECTED_POST = {
    "auth.logout": {"anonymous": LOGIN, "owner": 302, "investor": 302, "broker": 302, "admin": 302},
    "auth.resend_confirmation": SIGNED_IN,
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
    "brokers.decide": only("broker", "admin"),
    "brokers.bulk_decide": only("broker", "admin"),
    "brokers.advance": only("broker", "admin"),
    "brokers.close_won": only("broker", "admin"),
    "brokers.close_lost": only("broker", "admin"),
    "deals.respond": only("owner", "investor"),
    "deals.express_interest": only("owner", "investor"),
    "deals.conversation": SIGNED_IN,
    "deals.notifications": SIGNED_IN,
    "billing.pay_listing_fee": only("owner"),
    "billing.membership": only("investor"),
    "billing.membership_portal": only("investor"),
    "billing.waive_listing_fee": only("broker", "admin"),
    "billing.success_fee": only("broker", "admin"),
    "billing.admin_payment": only("admin"),
    "billing.fees": only("admin"),
    # Exempt from CSRF because it is signed: without Stripe's signature every caller gets 400.
    "stripe_webhook.receive": everyone(400),
    "brokers.retrain": only("broker", "admin"),
    "brokers.activate_version": only("broker", "admin"),
    "search.saved": only("owner", "investor", "broker", "admin"),  # empty form: 400
    # the saved search in `world` is the investor's: anyone else's is not found
    "search.delete_saved": {
        "anonymous": LOGIN,
        "owner": 404,
        "investor": OK,
        "broker": 404,
        "admin": 404,
    },
    "auth.request_verification": only("owner", "investor"),
    "brokers.taxonomy_claim": only("broker", "admin"),
    "brokers.reopen_organisation": only("broker", "admin"),
    "auth.mfa_verify": everyone(302),
    "auth.mfa_enrol": only("owner", "investor", "broker", "admin"),
    "auth.mfa_recovery_codes": only("owner", "investor", "broker", "admin"),
    "auth.mfa_disable": only("owner", "investor", "broker", "admin"),
    "admin.reset_mfa": only("admin"),
    "investors.new_track_deal": only("investor"),  # empty form: 200 with its errors
    "investors.edit_track_deal": only("investor"),
    "investors.import_track_record": only("investor"),  # no file: 400
    "investors.delete_track_deal": only("investor"),
    "auth.create_api_key": {**everyone(400), "anonymous": LOGIN},  # empty form: no name
    "auth.revoke_api_key": {**everyone(404), "anonymous": LOGIN},  # no such key of theirs
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
    payment = make_payment(app, users["owner"], need_id=need.id)
    match = make_match(app, need, product, MatchStatus.INTRODUCED, broker=users["broker"])
    saved_search = make_saved_search(app, users["investor"])
    track_deal = make_track_deal(app, users["investor"])
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
        training_job = jobs.enqueue("ranker.train", {"actor_id": users["broker"].id})
        db.session.commit()
        training_job_id = training_job.id
        db.session.remove()  # asked for, not run: the page shows it waiting
    return {
        "users": users,
        "need": need,
        "product": product,
        "org": other,
        "document": document,
        "match": match,
        "conversation_id": conversation_id,
        "payment": payment,
        "saved_search": saved_search,
        "training_job_id": training_job_id,
        "track_deal": track_deal,
    }


def url_args(world) -> dict:
    """Arguments for routes that take some; unknown arguments fail the test loudly."""
    return {
        "org_id": world["org"].id,
        "user_id": world["users"]["owner"].id,
        "need_id": world["need"].id,
        "product_id": world["product"].id,
        "token": "not-a-token",
        "document_id": world["document"].id,
        "match_id": world["match"].id,
        "conversation_id": world["conversation_id"],
        "version_id": 999999,
        "payment_id": world["payment"].id,
        "search_id": world["saved_search"].id,
        "job_id": world["training_job_id"],
        "track_deal_id": world["track_deal"].id,
        "organisation_id": world["users"]["investor"].organisation_id,
        "key_id": 999999,
        "slug": "not-found",
    }


# Routes with a choice in the path: the first allowed value is used.
ACTIONS = {
    "owners.need_action": "submit",
    "investors.product_action": "pause",
    "brokers.need_decision": "publish",
}


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
    response = client.post(
        "/auth/login",
        data={"email": user.email, "password": "correct-horse-9", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302


def test_every_endpoint_has_an_expectation(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - SKIPPED
    missing = endpoints - EXPECTED_GET.keys()
    assert not missing, f"add these endpoints to EXPECTED_GET: {sorted(missing)}"
    stale = EXPECTED_GET.keys() - endpoints
    assert not stale, f"these endpoints no longer exist: {sorted(stale)}"


def test_state_changing_endpoints_have_a_post_expectation(app):
    posting = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    posting -= {
        "auth.login",
        "auth.register",
        "auth.forgot_password",
        "auth.reset_password",
        "auth.profile",
        "auth.change_password",
        "auth.set_language",
    } | SKIPPED
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
        ok = status in (200, 302, 400, 409) if expected[role] == OK else status == expected[role]
        if not ok:
            failures.append(f"{endpoint}: {status} (expected {expected[role]})")
        if endpoint == "auth.logout" and role != "anonymous":
            client = client_for(app, role, world, _login)
            token = csrf_from(client.get("/auth/register").get_data(as_text=True))
    assert not failures, "\n".join(failures)


def _english_ui_strings(locale: str) -> set[str]:
    """Catalogue entries whose translation differs from the English (so English means a miss)."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = (
        Path(__file__).resolve().parent.parent
        / "marketplace"
        / "translations"
        / locale
        / "LC_MESSAGES"
        / "messages.po"
    )
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    return {
        m.id
        for m in catalogue
        if isinstance(m.id, str)
        and m.string
        and m.id != m.string
        and "%(" not in m.id
        and len(m.id) >= 12
        and " " in m.id
    }


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_in_chinese_without_english_ui(app, world, role, locale):
    client = client_for(app, role, world, _login)
    if role == "anonymous":
        client.post(
            "/auth/language",
            data={
                "locale": locale,
                "next": "/",
                "csrf_token": csrf_from(client.get("/").get_data(as_text=True)),
            },
        )
    else:
        page = client.get("/auth/profile").get_data(as_text=True)
        client.post(
            "/auth/language", data={"locale": locale, "next": "/", "csrf_token": csrf_from(page)}
        )
    english = _english_ui_strings(locale)
    failures = []
    for endpoint, expected in EXPECTED_GET.items():
        if expected[role] != OK:
            continue
        response = client.get(build(app, endpoint, world))
        if response.status_code == OK and response.mimetype != "text/html":
            continue  # JSON and file downloads carry no interface text
        html = response.get_data(as_text=True)
        if response.status_code != OK or f'lang="{locale.replace("_", "-")}"' not in html:
            failures.append(f"{endpoint}: {response.status_code}")
            continue
        leaked = sorted(text for text in english if f">{text}<" in html)
        if leaked:
            failures.append(f"{endpoint}: English left: {leaked[:3]}")
    assert not failures, "\n".join(failures)
