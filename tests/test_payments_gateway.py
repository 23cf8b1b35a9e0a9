"""The gateway against a local Stripe stand-in: what we send, with which key, and what we store."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    FeeStatus,
    FinancingNeed,
    MatchStatus,
    MembershipStatus,
    NeedStatus,
    Organisation,
    OrgKind,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Role,
)
from marketplace.payments.money import from_minor, to_minor
from marketplace.services.payments.fees import ensure_default_fees
from tests.conftest import post_form
from tests.factories import make_match, make_need, make_org, make_payment, make_product, make_user
from tests.stripe_standin import WEBHOOK_SECRET, StripeStandin, make_event, send_event

CHECKOUT = "/v1/checkout/sessions"


@pytest.fixture(scope="module")
def standin():
    server = StripeStandin().start()
    yield server
    server.stop()


@pytest.fixture
def stripe_on(app, standin, monkeypatch):
    standin.reset()
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_standin")
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", standin.url)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    with app.app_context():
        ensure_default_fees()
    return standin


@pytest.fixture
def submitted(app):
    owner = make_user(app, role=Role.OWNER)
    return owner, make_need(app, owner, status=NeedStatus.SUBMITTED)


def payments_where(app, *where) -> list[Payment]:
    with app.app_context():
        found = list(db.session.scalars(select(Payment).where(*where).order_by(Payment.id)))
        for payment in found:
            db.session.expunge(payment)
        return found


def stripe_url(response) -> str:
    """Where the page sends the browser: a Refresh to Stripe, and the same URL as a link."""
    assert response.status_code == 200
    refresh = response.headers["Refresh"]
    assert refresh.startswith("0;url=")
    url = refresh.removeprefix("0;url=")
    assert f'href="{url}"' in response.get_data(as_text=True)
    return url


# ---- Listing fee through Checkout ---------------------------------------------------------------


def test_listing_fee_checkout_sends_amount_currency_metadata_key_and_urls(
    app, client, login_as, stripe_on, submitted
):
    owner, need = submitted
    login_as(owner)
    response = post_form(client, f"/billing/needs/{need.id}/listing-fee", {"currency": "HKD"})
    url = stripe_url(response)
    assert url.startswith(f"{stripe_on.url}/pay/cs_test_")
    [payment] = payments_where(app, Payment.need_id == need.id)
    [call] = stripe_on.calls("POST", CHECKOUT)
    params = call.params
    assert params["mode"] == "payment"
    price = params["line_items"][0]["price_data"]
    assert price["unit_amount"] == "390000" and price["currency"] == "hkd"
    assert params["metadata"] == {
        "payment_id": str(payment.id),
        "purpose": "listing_fee",
        "organisation_id": str(owner.organisation_id),
        "need_id": str(need.id),
    }
    assert params["payment_intent_data"]["metadata"] == params["metadata"]
    assert params["success_url"] == "http://localhost/billing/checkout/success"
    assert params["cancel_url"] == "http://localhost/billing/checkout/cancel"
    assert call.idempotency_key == payment.idempotency_key
    assert payment.status == PaymentStatus.PENDING and payment.amount == Decimal("3900.00")
    assert payment.stripe_checkout_session_id == url.rsplit("/", 1)[1]


def test_the_success_page_changes_nothing(app, client, login_as, stripe_on, submitted):
    owner, need = submitted
    login_as(owner)
    post_form(client, f"/billing/needs/{need.id}/listing-fee", {"currency": "USD"})
    page = client.get("/billing/checkout/success").get_data(as_text=True)
    assert "once Stripe confirms" in page
    [payment] = payments_where(app, Payment.need_id == need.id)
    assert payment.status == PaymentStatus.PENDING
    with app.app_context():
        assert db.session.get(FinancingNeed, need.id).fee_status == FeeStatus.UNPAID


def test_a_double_click_opens_the_same_checkout_with_the_same_key(
    app, client, login_as, stripe_on, submitted
):
    owner, need = submitted
    login_as(owner)
    first = post_form(client, f"/billing/needs/{need.id}/listing-fee", {"currency": "USD"})
    second = post_form(client, f"/billing/needs/{need.id}/listing-fee", {"currency": "USD"})
    assert stripe_url(first) == stripe_url(second)
    assert len(payments_where(app, Payment.need_id == need.id)) == 1
    calls = stripe_on.calls("POST", CHECKOUT)
    assert len(calls) == 2 and calls[0].idempotency_key == calls[1].idempotency_key
    assert calls[1].replayed


def test_paying_is_refused_before_submission_and_after_settlement(app, client, login_as, stripe_on):
    owner = make_user(app, role=Role.OWNER)
    draft = make_need(app, owner)
    waived = make_need(app, owner, status=NeedStatus.SUBMITTED, fee_status=FeeStatus.WAIVED)
    login_as(owner)
    for need, message in ((draft, "Submit the need for review first"), (waived, "already settled")):
        response = post_form(client, f"/billing/needs/{need.id}/listing-fee", {"currency": "USD"})
        assert message in response.get_data(as_text=True)
    assert not stripe_on.requests


def test_a_refused_call_shows_the_message_and_frees_the_key(
    app, client, login_as, stripe_on, submitted, monkeypatch
):
    owner, need = submitted
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_live_not_accepted_here")
    login_as(owner)
    response = post_form(client, f"/billing/needs/{need.id}/listing-fee", {"currency": "USD"})
    assert "Stripe could not open the payment page: Invalid API Key" in response.get_data(
        as_text=True
    )
    [payment] = payments_where(app, Payment.need_id == need.id)
    assert payment.status == PaymentStatus.CANCELED


# ---- Membership and the customer portal ---------------------------------------------------------


def test_membership_checkout_is_a_monthly_subscription(app, client, login_as, stripe_on):
    investor = make_user(app, role=Role.INVESTOR)
    login_as(investor)
    response = post_form(client, "/billing/membership", {"interval": "month", "currency": "USD"})
    assert "/pay/cs_test_" in stripe_url(response)
    [call] = stripe_on.calls("POST", CHECKOUT)
    [payment] = payments_where(app, Payment.organisation_id == investor.organisation_id)
    assert call.params["mode"] == "subscription"
    price = call.params["line_items"][0]["price_data"]
    assert price == {
        "currency": "usd",
        "unit_amount": "30000",
        "recurring": {"interval": "month"},
        "product_data": {"name": "Investor membership (monthly)"},
    }
    assert call.params["subscription_data"]["metadata"]["payment_id"] == str(payment.id)
    assert call.params["customer_email"] == investor.email
    assert call.idempotency_key == payment.idempotency_key
    assert (payment.purpose, payment.interval) == (PaymentPurpose.MEMBERSHIP, "month")


def test_a_known_customer_pays_yearly_and_opens_the_portal(app, client, login_as, stripe_on):
    org = make_org(app, OrgKind.INVESTOR, stripe_customer_id="cus_test_known")
    investor = make_user(app, role=Role.INVESTOR, organisation=org)
    login_as(investor)
    post_form(client, "/billing/membership", {"interval": "year", "currency": "HKD"})
    [call] = stripe_on.calls("POST", CHECKOUT)
    assert call.params["customer"] == "cus_test_known" and "customer_email" not in call.params
    assert call.params["line_items"][0]["price_data"]["unit_amount"] == "2350000"
    response = post_form(client, "/billing/membership/portal", {}, page="/billing/membership")
    assert "/portal/bps_test_" in stripe_url(response)
    [portal] = stripe_on.calls("POST", "/v1/billing_portal/sessions")
    assert portal.params == {
        "customer": "cus_test_known",
        "return_url": "http://localhost/billing/membership",
    }


def test_an_active_member_cannot_subscribe_twice(app, client, login_as, stripe_on):
    org = make_org(app, OrgKind.INVESTOR, membership_status=MembershipStatus.ACTIVE)
    login_as(make_user(app, role=Role.INVESTOR, organisation=org))
    response = post_form(client, "/billing/membership", {"interval": "month", "currency": "USD"})
    assert "already has a membership" in response.get_data(as_text=True)
    assert not stripe_on.requests


# ---- Success fee through Stripe Invoicing -------------------------------------------------------


@pytest.fixture
def won_deal(app):
    owner = make_user(app, role=Role.OWNER)
    need = make_need(app, owner, status=NeedStatus.FINANCED)
    product = make_product(app, make_user(app, role=Role.INVESTOR))
    match = make_match(
        app,
        need,
        product,
        MatchStatus.CLOSED_WON,
        amount_financed=Decimal("40000000"),
        amount_financed_currency="USD",
    )
    return owner, match


def test_success_fee_invoice_is_raised_once(app, client, login_as, stripe_on, won_deal):
    owner, match = won_deal
    login_as(make_user(app, role=Role.BROKER))
    url = f"/billing/deals/{match.id}/success-fee"
    response = post_form(client, url, {"percent": "1.25"}, follow_redirects=True)
    assert "Invoice for $500,000.00 sent through Stripe." in response.get_data(as_text=True)
    [payment] = payments_where(app, Payment.match_id == match.id)
    key = payment.idempotency_key
    [customer] = stripe_on.calls("POST", "/v1/customers")
    [invoice] = stripe_on.calls("POST", "/v1/invoices")
    [item] = stripe_on.calls("POST", "/v1/invoiceitems")
    assert customer.idempotency_key == f"{key}:customer"
    assert invoice.idempotency_key == f"{key}:invoice"
    assert invoice.params["currency"] == "usd"
    assert invoice.params["collection_method"] == "send_invoice"
    assert invoice.params["metadata"]["match_id"] == str(match.id)
    assert item.params["amount"] == "50000000" and item.idempotency_key == f"{key}:item"
    assert [c.path.rsplit("/", 1)[1] for c in stripe_on.calls("POST", "/v1/invoices/*")] == [
        "finalize",
        "send",
    ]
    assert payment.organisation_id == owner.organisation_id
    assert payment.receipt_url.endswith(payment.stripe_invoice_id)
    with app.app_context():
        assert db.session.get(Organisation, owner.organisation_id).stripe_customer_id
    again = post_form(client, url, {"percent": "1.25"})
    assert "already been invoiced" in again.get_data(as_text=True)
    assert len(stripe_on.calls("POST", "/v1/invoices")) == 1


def test_success_fee_only_for_a_deal_closed_won(app, client, login_as, stripe_on):
    owner = make_user(app, role=Role.OWNER)
    need = make_need(app, owner, status=NeedStatus.PUBLISHED)
    match = make_match(
        app, need, make_product(app, make_user(app, role=Role.INVESTOR)), MatchStatus.IN_NEGOTIATION
    )
    login_as(make_user(app, role=Role.ADMIN))
    response = post_form(client, f"/billing/deals/{match.id}/success-fee", {"percent": "1"})
    assert "Only a deal closed won has a success fee." in response.get_data(as_text=True)
    assert not stripe_on.requests


# ---- Refunds ------------------------------------------------------------------------------------


def test_partial_refund_goes_to_stripe_and_shows_after_the_webhook(
    app, client, login_as, stripe_on
):
    owner = make_user(app, role=Role.OWNER)
    payment = make_payment(app, owner, stripe_payment_intent_id="pi_test_paid")
    login_as(make_user(app, role=Role.ADMIN))
    url = f"/billing/admin/payments/{payment.id}"
    response = post_form(
        client,
        url,
        {"amount": "120.50", "reason": "Listing withdrawn early"},
        follow_redirects=True,
    )
    assert "once Stripe confirms" in response.get_data(as_text=True)
    [call] = stripe_on.calls("POST", "/v1/refunds")
    assert call.params["amount"] == "12050" and call.params["payment_intent"] == "pi_test_paid"
    assert call.idempotency_key == f"{payment.idempotency_key}:refund:0:12050"
    with app.app_context():
        stored = db.session.get(Payment, payment.id)
        assert stored.amount_refunded == 0 and "Listing withdrawn early" in stored.refund_reason
        assert (
            db.session.scalar(
                select(func.count(AuditLog.id)).where(AuditLog.action == "payment.refund_requested")
            )
            == 1
        )
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_test_paid",
        "amount": 50000,
        "amount_refunded": 12050,
        "currency": "usd",
        "metadata": {},
    }
    assert send_event(client, make_event("charge.refunded", charge)).status_code == 200
    [stored] = payments_where(app, Payment.id == payment.id)
    assert stored.amount_refunded == Decimal("120.50")
    assert stored.status == PaymentStatus.PARTIALLY_REFUNDED


def test_a_repeated_refund_click_reuses_the_key(app, client, login_as, stripe_on):
    payment = make_payment(
        app, make_user(app, role=Role.OWNER), stripe_payment_intent_id="pi_test_twice"
    )
    login_as(make_user(app, role=Role.ADMIN))
    for _ in range(2):
        post_form(client, f"/billing/admin/payments/{payment.id}", {"amount": "", "reason": "x"})
    first, second = stripe_on.calls("POST", "/v1/refunds")
    assert first.params["amount"] == "50000" and first.idempotency_key == second.idempotency_key
    assert second.replayed


def test_refunding_a_membership_invoice_finds_its_payment_intent(app, client, login_as, stripe_on):
    payment = make_payment(
        app,
        make_user(app, role=Role.INVESTOR),
        purpose=PaymentPurpose.MEMBERSHIP,
        stripe_invoice_id="in_test_9",
    )
    stripe_on.invoice_payments["in_test_9"] = "pi_test_from_invoice"
    login_as(make_user(app, role=Role.ADMIN))
    post_form(client, f"/billing/admin/payments/{payment.id}", {"amount": "10", "reason": "y"})
    [call] = stripe_on.calls("POST", "/v1/refunds")
    assert call.params["payment_intent"] == "pi_test_from_invoice"


@pytest.mark.parametrize(
    "amount, message", [("500.01", "at most $500.00"), ("", "Only a paid payment can be refunded")]
)
def test_bad_refunds_never_reach_stripe(app, client, login_as, stripe_on, amount, message):
    status = PaymentStatus.PAID if amount else PaymentStatus.PENDING
    payment = make_payment(
        app, make_user(app, role=Role.OWNER), status=status, stripe_payment_intent_id="pi_test_x"
    )
    login_as(make_user(app, role=Role.ADMIN))
    response = post_form(
        client, f"/billing/admin/payments/{payment.id}", {"amount": amount, "reason": "z"}
    )
    assert message in response.get_data(as_text=True)
    assert not stripe_on.calls("POST", "/v1/refunds")


# ---- Configuration and money --------------------------------------------------------------------


def test_nothing_calls_stripe_at_start_up(stripe_on, tmp_path):
    create_app(
        "testing",
        STRIPE_SECRET_KEY="sk_test_standin",
        STRIPE_API_BASE=stripe_on.url,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}",
    )
    assert stripe_on.requests == []


@pytest.mark.parametrize(
    "amount, currency, minor",
    [
        ("500", "USD", 50000),
        ("3900.00", "hkd", 390000),
        ("0.01", "EUR", 1),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
    ],
)
def test_minor_units_round_trip(amount, currency, minor):
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


def test_amounts_that_need_rounding_are_refused():
    with pytest.raises(ValueError):
        to_minor(Decimal("10.005"), "USD")
    with pytest.raises(ValueError):
        to_minor(Decimal("10.5"), "JPY")
