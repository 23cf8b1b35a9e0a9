"""POST /stripe/webhook with real signatures: effects, repeats, events out of order, forgeries."""

import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    FeeStatus,
    FinancingNeed,
    MembershipStatus,
    NeedStatus,
    Organisation,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Role,
    StripeEvent,
)
from marketplace.payments.money import to_minor
from marketplace.services.payments.payments import has_membership_rights
from tests.factories import make_need, make_payment, make_user
from tests.stripe_standin import (
    WEBHOOK_SECRET,
    StripeStandin,
    make_event,
    send_event,
    signature_header,
)

NOW = int(time.time())


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
    return standin


@pytest.fixture
def listing(app):
    """A submitted need and the pending Checkout payment of its listing fee."""
    owner = make_user(app, role=Role.OWNER)
    need = make_need(app, owner, status=NeedStatus.SUBMITTED)
    payment = make_payment(
        app,
        owner,
        status=PaymentStatus.PENDING,
        need_id=need.id,
        stripe_checkout_session_id="cs_test_listing",
        stripe_object_created=NOW,
    )
    return need, payment


@pytest.fixture
def membership(app):
    """An investor's pending monthly membership, just sent to Checkout."""
    investor = make_user(app, role=Role.INVESTOR)
    return make_payment(
        app,
        investor,
        purpose=PaymentPurpose.MEMBERSHIP,
        interval="month",
        status=PaymentStatus.PENDING,
        amount=Decimal("300.00"),
        stripe_checkout_session_id="cs_test_member",
        stripe_object_created=NOW - 100,
    )


def fetch(app, model, ident):
    with app.app_context():
        obj = db.session.get(model, ident)
        db.session.expunge(obj)
        return obj


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def meta(payment) -> dict:
    return {"payment_id": str(payment.id), "purpose": str(payment.purpose)}


def completed(payment, mode="payment", **fields) -> dict:
    """A completed Checkout session, for the amount and currency we billed (as Stripe sends)."""
    return {
        "id": payment.stripe_checkout_session_id,
        "object": "checkout.session",
        "mode": mode,
        "amount_total": to_minor(payment.amount, payment.currency),
        "currency": payment.currency.lower(),
        "status": "complete",
        "payment_status": "paid",
        "metadata": meta(payment),
        "payment_intent": "pi_test_listing" if mode == "payment" else None,
        **fields,
    }


def charge(payment, refunded: int, **fields) -> dict:
    return {
        "id": "ch_test_1",
        "object": "charge",
        "payment_intent": "pi_test_listing",
        "amount": 50000,
        "amount_refunded": refunded,
        "currency": "usd",
        "refunded": refunded >= 50000,
        "metadata": meta(payment),
        "receipt_url": "https://pay.stripe.com/receipts/test",
        **fields,
    }


def subscription(payment, status="active", period_end=NOW + 30 * 86400) -> dict:
    return {
        "id": "sub_test_1",
        "object": "subscription",
        "status": status,
        "customer": "cus_test_1",
        "metadata": meta(payment),
        "items": {"object": "list", "data": [{"id": "si_1", "current_period_end": period_end}]},
    }


def sub_invoice(payment, invoice_id="in_test_1", period_end=NOW + 30 * 86400) -> dict:
    return {
        "id": invoice_id,
        "object": "invoice",
        "status": "paid",
        "currency": "usd",
        "amount_paid": 30000,
        "customer": "cus_test_1",
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": "sub_test_1", "metadata": meta(payment)},
        },
        "lines": {"object": "list", "data": [{"period": {"start": NOW, "end": period_end}}]},
    }


def deliver(client, event_type, obj, created=None, event_id=None):
    response = send_event(client, make_event(event_type, obj, created, event_id))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["outcome"]


# ---- Happy paths --------------------------------------------------------------------------------


def test_checkout_completed_marks_the_listing_fee_paid(app, client, stripe_on, listing):
    need, payment = listing
    assert deliver(client, "checkout.session.completed", completed(payment)) == "paid"
    stored = fetch(app, Payment, payment.id)
    assert stored.status == PaymentStatus.PAID
    assert stored.stripe_payment_intent_id == "pi_test_listing"
    assert fetch(app, FinancingNeed, need.id).fee_status == FeeStatus.PAID
    assert count(app, StripeEvent, StripeEvent.outcome == "paid") == 1


def test_expired_checkout_marks_the_payment_expired(app, client, stripe_on, listing):
    need, payment = listing
    assert (
        deliver(
            client,
            "checkout.session.expired",
            {**completed(payment), "status": "expired", "payment_status": "unpaid"},
        )
        == "expired"
    )
    assert fetch(app, Payment, payment.id).status == PaymentStatus.EXPIRED
    assert fetch(app, FinancingNeed, need.id).fee_status == FeeStatus.UNPAID


def test_full_refund_leaves_the_listing_fee_unpaid(app, client, stripe_on, listing):
    need, payment = listing
    deliver(client, "checkout.session.completed", completed(payment))
    assert deliver(client, "charge.refunded", charge(payment, 20000)) == "partially_refunded"
    assert fetch(app, FinancingNeed, need.id).fee_status == FeeStatus.PAID
    assert deliver(client, "charge.refunded", charge(payment, 50000)) == "refunded"
    stored = fetch(app, Payment, payment.id)
    assert stored.status == PaymentStatus.REFUNDED and stored.amount_refunded == Decimal("500.00")
    assert fetch(app, FinancingNeed, need.id).fee_status == FeeStatus.UNPAID


def test_refund_of_an_unknown_intent_is_matched_by_fetching_the_intent(
    app, client, stripe_on, listing
):
    _need, payment = listing
    stripe_on.add_payment_intent("pi_test_elsewhere", meta(payment))
    obj = charge(payment, 50000, payment_intent="pi_test_elsewhere", metadata={})
    assert deliver(client, "charge.refunded", obj) == "refunded"
    assert stripe_on.calls("GET", "/v1/payment_intents/pi_test_elsewhere")
    assert fetch(app, Payment, payment.id).stripe_payment_intent_id == "pi_test_elsewhere"


def test_success_fee_invoice_paid(app, client, stripe_on):
    owner = make_user(app, role=Role.OWNER)
    payment = make_payment(
        app,
        owner,
        purpose=PaymentPurpose.SUCCESS_FEE,
        status=PaymentStatus.PENDING,
        stripe_invoice_id="in_test_fee",
    )
    invoice = {
        "id": "in_test_fee",
        "object": "invoice",
        "status": "paid",
        "currency": "usd",
        "amount_paid": to_minor(payment.amount, payment.currency),
        "metadata": meta(payment),
        "parent": None,
        "hosted_invoice_url": "https://invoice.stripe.com/i/fee",
        "payments": {
            "data": [{"payment": {"type": "payment_intent", "payment_intent": "pi_test_fee"}}]
        },
    }
    assert deliver(client, "invoice.paid", invoice) == "paid"
    stored = fetch(app, Payment, payment.id)
    assert stored.receipt_url == "https://invoice.stripe.com/i/fee"
    assert stored.stripe_payment_intent_id == "pi_test_fee"


def test_membership_lifecycle(app, client, stripe_on, membership):
    org_id = membership.organisation_id
    deliver(
        client,
        "checkout.session.completed",
        completed(membership, "subscription", subscription="sub_test_1", customer="cus_test_1"),
        created=NOW,
    )
    organisation = fetch(app, Organisation, org_id)
    assert organisation.membership_status == MembershipStatus.ACTIVE
    assert organisation.stripe_customer_id == "cus_test_1"
    deliver(client, "invoice.paid", sub_invoice(membership), created=NOW + 1)
    first = fetch(app, Payment, membership.id)
    assert first.status == PaymentStatus.PAID and first.stripe_invoice_id == "in_test_1"
    assert first.receipt_url.endswith("in_test_1")
    next_period = NOW + 60 * 86400
    deliver(
        client, "invoice.paid", sub_invoice(membership, "in_test_2", next_period), created=NOW + 2
    )
    assert count(app, Payment, Payment.organisation_id == org_id) == 2
    assert fetch(app, Organisation, org_id).membership_until.timestamp() == next_period
    deliver(client, "invoice.payment_failed", sub_invoice(membership, "in_test_3"), created=NOW + 3)
    with app.app_context():
        organisation = db.session.get(Organisation, org_id)
        assert organisation.membership_status == MembershipStatus.PAST_DUE
        assert has_membership_rights(organisation)  # Stripe is still retrying
    deliver(
        client, "customer.subscription.updated", subscription(membership, "unpaid"), created=NOW + 4
    )
    with app.app_context():
        assert not has_membership_rights(db.session.get(Organisation, org_id))
    deliver(
        client,
        "customer.subscription.deleted",
        subscription(membership, "canceled"),
        created=NOW + 5,
    )
    assert fetch(app, Payment, membership.id).status == PaymentStatus.CANCELED
    assert count(app, Payment, Payment.organisation_id == org_id) == 2  # nothing deleted


def test_unknown_event_types_and_unknown_objects_answer_200(app, client, stripe_on):
    assert deliver(client, "customer.created", {"id": "cus_1", "object": "customer"}) == "ignored"
    assert (
        deliver(
            client,
            "checkout.session.completed",
            {"id": "cs_elsewhere", "object": "checkout.session", "metadata": {}},
        )
        == "ignored: no matching payment"
    )
    assert count(app, StripeEvent) == 2


# ---- The same event again, and pairs out of order ------------------------------------------------


def test_the_same_event_five_times_changes_things_once(app, client, stripe_on, membership):
    deliver(
        client,
        "checkout.session.completed",
        completed(membership, "subscription", subscription="sub_test_1"),
        created=NOW,
    )
    deliver(client, "invoice.paid", sub_invoice(membership), created=NOW + 1)
    renewal = make_event("invoice.paid", sub_invoice(membership, "in_test_2"), NOW + 2)
    outcomes = [send_event(client, renewal).get_json()["outcome"] for _ in range(5)]
    assert outcomes[0].startswith("membership") and outcomes[1:] == ["duplicate"] * 4
    assert count(app, Payment, Payment.organisation_id == membership.organisation_id) == 2
    assert count(app, StripeEvent, StripeEvent.id == renewal["id"]) == 1


def test_refund_repeated_five_times_is_counted_once(app, client, stripe_on, listing):
    _need, payment = listing
    deliver(client, "checkout.session.completed", completed(payment))
    event = make_event("charge.refunded", charge(payment, 10000))
    for _ in range(5):
        assert send_event(client, event).status_code == 200
    assert fetch(app, Payment, payment.id).amount_refunded == Decimal("100.00")


def test_expired_after_completed_keeps_it_paid(app, client, stripe_on, listing):
    need, payment = listing
    deliver(client, "checkout.session.completed", completed(payment), created=NOW + 10)
    deliver(
        client,
        "checkout.session.expired",
        {**completed(payment), "status": "expired"},
        created=NOW + 5,
    )
    assert fetch(app, Payment, payment.id).status == PaymentStatus.PAID
    assert fetch(app, FinancingNeed, need.id).fee_status == FeeStatus.PAID


def test_refund_before_completed_stays_refunded(app, client, stripe_on, listing):
    need, payment = listing
    deliver(client, "charge.refunded", charge(payment, 50000), created=NOW + 10)
    deliver(client, "checkout.session.completed", completed(payment), created=NOW + 5)
    assert fetch(app, Payment, payment.id).status == PaymentStatus.REFUNDED
    assert fetch(app, FinancingNeed, need.id).fee_status == FeeStatus.UNPAID


def test_partial_refunds_out_of_order_keep_the_larger_total(app, client, stripe_on, listing):
    _need, payment = listing
    deliver(client, "checkout.session.completed", completed(payment))
    deliver(client, "charge.refunded", charge(payment, 30000), created=NOW + 20)
    assert (
        deliver(client, "charge.refunded", charge(payment, 10000), created=NOW + 10)
        == "unchanged: refund already recorded"
    )
    assert fetch(app, Payment, payment.id).amount_refunded == Decimal("300.00")


def test_deleted_before_updated_stays_lapsed(app, client, stripe_on, membership):
    deliver(
        client,
        "checkout.session.completed",
        completed(membership, "subscription", subscription="sub_test_1"),
        created=NOW,
    )
    deliver(
        client,
        "customer.subscription.deleted",
        subscription(membership, "canceled"),
        created=NOW + 20,
    )
    deliver(
        client,
        "customer.subscription.updated",
        subscription(membership, "active"),
        created=NOW + 10,
    )
    organisation = fetch(app, Organisation, membership.organisation_id)
    assert organisation.membership_status == MembershipStatus.LAPSED


def test_an_older_update_does_not_undo_a_newer_one(app, client, stripe_on, membership):
    deliver(
        client,
        "customer.subscription.updated",
        subscription(membership, "past_due"),
        created=NOW + 20,
    )
    assert (
        deliver(
            client,
            "customer.subscription.updated",
            subscription(membership, "active"),
            created=NOW + 10,
        )
        == "unchanged: a newer event was applied first"
    )
    organisation = fetch(app, Organisation, membership.organisation_id)
    assert organisation.membership_status == MembershipStatus.PAST_DUE


def test_a_late_payment_failure_does_not_undo_a_later_payment(app, client, stripe_on, membership):
    deliver(client, "invoice.paid", sub_invoice(membership), created=NOW + 20)
    deliver(client, "invoice.payment_failed", sub_invoice(membership), created=NOW + 10)
    organisation = fetch(app, Organisation, membership.organisation_id)
    assert organisation.membership_status == MembershipStatus.ACTIVE


def test_subscription_update_before_checkout_completed(app, client, stripe_on, membership):
    deliver(
        client,
        "customer.subscription.updated",
        subscription(membership, "active"),
        created=NOW + 20,
    )
    deliver(
        client,
        "checkout.session.completed",
        completed(membership, "subscription", subscription="sub_test_1", customer="cus_test_1"),
        created=NOW + 10,
    )
    stored = fetch(app, Payment, membership.id)
    assert stored.status == PaymentStatus.PAID and stored.stripe_subscription_id == "sub_test_1"
    organisation = fetch(app, Organisation, membership.organisation_id)
    assert organisation.membership_status == MembershipStatus.ACTIVE
    assert organisation.stripe_customer_id == "cus_test_1"


# ---- Forgeries and malformed requests ------------------------------------------------------------


def _listing_event(payment) -> dict:
    return make_event("checkout.session.completed", completed(payment))


@pytest.mark.parametrize(
    "attack", ["wrong secret", "tampered body", "old timestamp", "no signature"]
)
def test_forged_events_are_refused(app, client, stripe_on, listing, attack):
    _need, payment = listing
    event = _listing_event(payment)
    payload = json.dumps(event)
    if attack == "wrong secret":
        response = send_event(client, event, secret="whsec_someone_else")
    elif attack == "tampered body":
        response = send_event(client, payload, body=payload.replace("pi_test_listing", "pi_x"))
    elif attack == "old timestamp":
        response = send_event(client, event, timestamp=int(time.time()) - 600)
    else:
        response = client.post(
            "/stripe/webhook", data=payload, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert fetch(app, Payment, payment.id).status == PaymentStatus.PENDING
    assert count(app, StripeEvent) == 0


def test_re_serialised_json_fails_the_signature(app, client, stripe_on, listing):
    _need, payment = listing
    payload = json.dumps(_listing_event(payment))
    signed = signature_header(payload, WEBHOOK_SECRET, None)
    body = json.dumps(json.loads(payload), indent=2)  # same data, different bytes
    response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signed})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '{"id": "evt_1"}',
        '{"id": "evt_1", "type": "x", "data": {"object": 3}}',
    ],
)
def test_malformed_bodies_with_a_good_signature_are_refused(app, client, stripe_on, body):
    response = send_event(client, body)
    assert response.status_code == 400
    assert count(app, StripeEvent) == 0


def test_without_a_webhook_secret_every_event_is_refused(
    app, client, stripe_on, listing, monkeypatch
):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", None)
    _need, payment = listing
    assert send_event(client, _listing_event(payment)).status_code == 400


def test_the_webhook_needs_no_csrf_token_but_only_takes_post(client, stripe_on):
    assert client.get("/stripe/webhook").status_code == 405
    event = make_event("customer.created", {"id": "cus_9", "object": "customer"})
    assert send_event(client, event).status_code == 200  # no csrf_token field was sent


# ---- Amounts that differ from what was billed ----------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"amount_total": 100},
        {"amount_total": 50001},
        {"currency": "hkd"},
        {"amount_total": None},
        {"amount_total": "50000"},
    ],
    ids=["too little", "one cent more", "other currency", "no amount", "amount as text"],
)
def test_checkout_for_another_amount_is_flagged_not_paid(app, client, stripe_on, listing, change):
    need, payment = listing
    outcome = deliver(client, "checkout.session.completed", {**completed(payment), **change})
    assert outcome.startswith("flagged")
    assert fetch(app, Payment, payment.id).status == PaymentStatus.AMOUNT_MISMATCH
    assert fetch(app, FinancingNeed, need.id).fee_status == FeeStatus.UNPAID
    with app.app_context():
        flagged = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "payment.amount_mismatch")
        ).all()
    assert len(flagged) == 1 and "500.00 USD" in str(flagged[0].data)


def test_an_invoice_paid_for_another_amount_is_flagged_for_an_admin(
    app, client, stripe_on, login_as
):
    owner = make_user(app, role=Role.OWNER)
    payment = make_payment(
        app,
        owner,
        purpose=PaymentPurpose.SUCCESS_FEE,
        status=PaymentStatus.PENDING,
        stripe_invoice_id="in_test_short",
        amount=Decimal("12500.00"),
    )
    invoice = {
        "id": "in_test_short",
        "object": "invoice",
        "status": "paid",
        "currency": "usd",
        "amount_paid": 1250000 - 1,
        "metadata": meta(payment),
        "parent": None,
    }
    assert deliver(client, "invoice.paid", invoice).startswith("flagged")
    assert fetch(app, Payment, payment.id).status == PaymentStatus.AMOUNT_MISMATCH
    login_as(make_user(app, role=Role.ADMIN))
    page = client.get("/billing/admin/payments?status=amount_mismatch").get_data(as_text=True)
    assert "Amount differs from ours: check at Stripe" in page
