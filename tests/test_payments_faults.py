"""Stripe answering 500 or not at all: a clear, translated message, nothing marked paid, the
payment row kept for a retry, and the retry sent with the same idempotency key, so Stripe never
creates (and the customer never pays) a second Checkout for the same fee."""

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import FeeStatus, FinancingNeed, NeedStatus, Payment, PaymentStatus, Role
from marketplace.services.payments.fees import ensure_default_fees
from tests.conftest import post_form
from tests.factories import make_need, make_user
from tests.stripe_standin import WEBHOOK_SECRET, StripeStandin

CHECKOUT = "/v1/checkout/sessions"
NOT_ANSWERING = {
    "en": "Stripe, our payment provider, is not answering just now.",
    "zh_Hans": "我们的支付服务商 Stripe 暂时没有响应",
    "zh_Hant": "我們的支付服務商 Stripe 暫時沒有回應",
}


@pytest.fixture(scope="module")
def standin():
    server = StripeStandin().start()
    yield server
    server.outage = None
    server.stop()


@pytest.fixture
def stripe_on(app, standin, monkeypatch):
    standin.reset()
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_standin")
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", standin.url)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    # Short, so that a hanging Stripe costs the test about a second, not the default 2 x 10 s.
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setitem(app.config, "STRIPE_MAX_NETWORK_RETRIES", 1)
    with app.app_context():
        ensure_default_fees()
    return standin


def submitted_need(app, locale="en"):
    owner = make_user(app, role=Role.OWNER, locale=locale)
    return owner, make_need(app, owner, status=NeedStatus.SUBMITTED)


def pay(client, need):
    return post_form(client, f"/billing/needs/{need.id}/listing-fee", {"currency": "USD"})


def state_of(app, need) -> tuple[list[Payment], FeeStatus]:
    with app.app_context():
        payments = list(db.session.scalars(select(Payment).where(Payment.need_id == need.id)))
        for payment in payments:
            db.session.expunge(payment)
        return payments, db.session.get(FinancingNeed, need.id).fee_status


def checkout_sessions(standin) -> list[dict]:
    return [obj for obj in standin.objects.values() if obj["object"] == "checkout.session"]


@pytest.mark.parametrize("locale", NOT_ANSWERING)
def test_stripe_answering_500_is_a_clear_message_and_nothing_is_paid(
    app, client, login_as, stripe_on, locale
):
    owner, need = submitted_need(app, locale)
    login_as(owner)
    stripe_on.outage = "500"
    page = pay(client, need)
    assert page.status_code == 200 and NOT_ANSWERING[locale] in page.get_data(as_text=True)
    [payment], fee_status = state_of(app, need)
    assert payment.status == PaymentStatus.PENDING and fee_status == FeeStatus.UNPAID
    # The SDK tried again once by itself, with our key saved on the row before the first try.
    calls = stripe_on.calls("POST", CHECKOUT)
    assert [c.status for c in calls] == [500, 500]
    assert {c.idempotency_key for c in calls} == {payment.idempotency_key}
    assert not checkout_sessions(stripe_on)


def test_after_a_500_the_retry_reuses_the_row_and_key_and_opens_one_checkout(
    app, client, login_as, stripe_on
):
    owner, need = submitted_need(app)
    login_as(owner)
    stripe_on.outage = "500"
    pay(client, need)
    stripe_on.outage = None
    retried = pay(client, need)
    assert retried.status_code == 200 and "Refresh" in retried.headers
    [payment], fee_status = state_of(app, need)
    [session] = checkout_sessions(stripe_on)
    assert payment.stripe_checkout_session_id == session["id"]
    assert payment.status == PaymentStatus.PENDING and fee_status == FeeStatus.UNPAID
    assert {c.idempotency_key for c in stripe_on.calls("POST", CHECKOUT)} == {
        payment.idempotency_key
    }


def test_a_hanging_stripe_times_out_and_the_retry_never_creates_a_second_checkout(
    app, client, login_as, stripe_on
):
    owner, need = submitted_need(app)
    login_as(owner)
    stripe_on.outage = "hang"
    page = pay(client, need)
    assert NOT_ANSWERING["en"] in page.get_data(as_text=True)
    # Stripe did create the session; only its answer was lost.
    [created] = checkout_sessions(stripe_on)
    [payment], fee_status = state_of(app, need)
    assert payment.stripe_checkout_session_id is None and payment.status == PaymentStatus.PENDING
    assert fee_status == FeeStatus.UNPAID

    stripe_on.outage = None
    retried = pay(client, need)
    assert retried.headers["Refresh"] == f"0;url={created['url']}"
    assert checkout_sessions(stripe_on) == [created]
    [payment], _ = state_of(app, need)
    assert payment.stripe_checkout_session_id == created["id"]
    calls = stripe_on.calls("POST", CHECKOUT)
    assert len(calls) >= 3 and {c.idempotency_key for c in calls} == {payment.idempotency_key}
    assert all(c.replayed for c in calls[1:])
