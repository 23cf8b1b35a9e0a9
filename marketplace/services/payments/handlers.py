"""What each Stripe event does to our payments, needs and memberships.

Stripe sends events at least once and in no fixed order, so every handler is safe to see late:
one-off payments only move forward (pending -> paid -> refunded, never back), refunds take
Stripe's running total, and membership changes carry the event's `created` time, so an older
event never overwrites a newer one. An ended subscription never comes back.
"""

import logging
from datetime import UTC, datetime

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    FeeStatus,
    FinancingNeed,
    MembershipStatus,
    Organisation,
    Payment,
    PaymentPurpose,
    PaymentStatus,
)
from marketplace.payments.gateway import GatewayError, get_gateway
from marketplace.payments.money import from_minor
from marketplace.services.accounts.audit import record

log = logging.getLogger(__name__)

NOT_YET_PAID = (
    PaymentStatus.PENDING,
    PaymentStatus.EXPIRED,
    PaymentStatus.FAILED,
    PaymentStatus.CANCELED,
)
SUBSCRIPTION_STATES = {
    "active": MembershipStatus.ACTIVE,
    "trialing": MembershipStatus.ACTIVE,
    "past_due": MembershipStatus.PAST_DUE,
    "unpaid": MembershipStatus.LAPSED,
    "paused": MembershipStatus.LAPSED,
}
SUBSCRIPTION_ENDED = ("canceled", "incomplete_expired")
NO_MATCH = "ignored: no matching payment"


# ---- Finding our row ---------------------------------------------------------------------------


def _by_column(column, value) -> Payment | None:
    if not value:
        return None
    return db.session.scalar(select(Payment).where(column == value).order_by(Payment.id).limit(1))


def _by_metadata(metadata: dict | None) -> Payment | None:
    """Our row named in the metadata we attached, when its purpose agrees."""
    metadata = metadata or {}
    payment_id = str(metadata.get("payment_id") or "")
    if not payment_id.isdigit():
        return None
    payment = db.session.get(Payment, int(payment_id))
    if payment is None or metadata.get("purpose", str(payment.purpose)) != str(payment.purpose):
        return None
    return payment


def _by_intent(intent: str | None) -> Payment | None:
    """Our row for a PaymentIntent, asking Stripe for its metadata when we have not seen it yet."""
    payment = _by_column(Payment.stripe_payment_intent_id, intent)
    gateway = get_gateway()
    if payment is None and intent and gateway is not None:
        try:
            payment = _by_metadata(gateway.payment_intent_metadata(intent))
        except GatewayError as error:
            if error.retryable:
                raise  # answer 500, so Stripe delivers the event again later
    return payment


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


# ---- One-off payments: listing fees and success fees -------------------------------------------


def _mark_paid(payment: Payment) -> str:
    if payment.status not in NOT_YET_PAID:
        return f"unchanged: already {payment.status}"
    payment.status = PaymentStatus.PAID
    if payment.purpose == PaymentPurpose.LISTING_FEE:
        need = db.session.get(FinancingNeed, payment.need_id)
        if need is not None:
            need.fee_status = FeeStatus.PAID
    return "paid"


def _paid_as_billed(payment: Payment, amount_minor, currency) -> bool:
    """Whether Stripe's amount (minor units) and currency are exactly what we asked for."""
    if not isinstance(amount_minor, int) or not isinstance(currency, str):
        return False
    return currency.upper() == payment.currency and from_minor(amount_minor, currency) == (
        payment.amount
    )


def _flag_mismatch(payment: Payment, amount_minor, currency) -> str:
    """Do not count the payment; log it and leave it flagged for an admin."""
    payment.status = PaymentStatus.AMOUNT_MISMATCH
    received = f"{amount_minor} {currency} (minor units)"
    log.warning(
        "payment %s: Stripe reported %s, we billed %s %s",
        payment.id,
        received,
        payment.amount,
        payment.currency,
    )
    record(
        "payment.amount_mismatch",
        actor=None,
        target=payment,
        billed=f"{payment.amount} {payment.currency}",
        received=received,
    )
    return "flagged: the amount or currency differs from what was billed"


def _mark_paid_if_billed(payment: Payment, amount_minor, currency) -> str:
    if payment.status in NOT_YET_PAID and not _paid_as_billed(payment, amount_minor, currency):
        return _flag_mismatch(payment, amount_minor, currency)
    return _mark_paid(payment)


def checkout_completed(session: dict, event: dict) -> str:
    """Checkout finished: the listing fee is paid, or a membership has started."""
    payment = _by_column(Payment.stripe_checkout_session_id, session.get("id")) or _by_metadata(
        session.get("metadata")
    )
    if payment is None:
        return NO_MATCH
    payment.stripe_checkout_session_id = payment.stripe_checkout_session_id or session.get("id")
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return "waiting: the payment is not confirmed yet"
    if session.get("mode") == "subscription":
        return _membership_started(payment, session, event)
    payment.stripe_payment_intent_id = payment.stripe_payment_intent_id or session.get(
        "payment_intent"
    )
    payment.stripe_invoice_id = payment.stripe_invoice_id or session.get("invoice")
    return _mark_paid_if_billed(payment, session.get("amount_total"), session.get("currency"))


def checkout_closed(session: dict, event: dict) -> str:
    """The Checkout page expired, or a delayed payment failed: only a pending row changes."""
    payment = _by_column(Payment.stripe_checkout_session_id, session.get("id")) or _by_metadata(
        session.get("metadata")
    )
    if payment is None:
        return NO_MATCH
    if payment.status != PaymentStatus.PENDING:
        return f"unchanged: already {payment.status}"
    expired = event["type"] == "checkout.session.expired"
    payment.status = PaymentStatus.EXPIRED if expired else PaymentStatus.FAILED
    return str(payment.status)


def charge_refunded(charge: dict, event: dict) -> str:
    """Record Stripe's running total of refunds on the charge (so order does not matter)."""
    intent = charge.get("payment_intent")
    payment = _by_metadata(charge.get("metadata")) or _by_intent(intent)
    if payment is None:
        return NO_MATCH
    payment.stripe_payment_intent_id = payment.stripe_payment_intent_id or intent
    payment.receipt_url = payment.receipt_url or charge.get("receipt_url")
    refunded = from_minor(charge.get("amount_refunded") or 0, charge["currency"])
    if refunded <= payment.amount_refunded:
        return "unchanged: refund already recorded"
    payment.amount_refunded = min(refunded, payment.amount)
    full = payment.amount_refunded >= payment.amount
    payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    if full and payment.purpose == PaymentPurpose.LISTING_FEE:
        _listing_fee_returned(payment)
    return str(payment.status)


def _listing_fee_returned(payment: Payment) -> None:
    """A fully refunded listing fee leaves the need unpaid, unless another payment covers it."""
    need = db.session.get(FinancingNeed, payment.need_id)
    other = db.session.scalar(
        select(Payment.id)
        .where(
            Payment.need_id == payment.need_id,
            Payment.id != payment.id,
            Payment.purpose == PaymentPurpose.LISTING_FEE,
            Payment.status == PaymentStatus.PAID,
        )
        .limit(1)
    )
    if need is not None and need.fee_status == FeeStatus.PAID and other is None:
        need.fee_status = FeeStatus.UNPAID


# ---- Invoices: success fees, listing-fee receipts and membership periods -----------------------


def _invoice_subscription(invoice: dict) -> tuple[str | None, dict]:
    """The subscription behind an invoice and its metadata (older API versions put it on top)."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = details.get("subscription") or invoice.get("subscription")
    if isinstance(subscription, dict):
        subscription = subscription.get("id")
    return subscription, details.get("metadata") or {}


def _invoice_intent(invoice: dict) -> str | None:
    for item in (invoice.get("payments") or {}).get("data", []):
        intent = (item.get("payment") or {}).get("payment_intent")
        if intent:
            return intent if isinstance(intent, str) else intent.get("id")
    return invoice.get("payment_intent") if isinstance(invoice.get("payment_intent"), str) else None


def invoice_paid(invoice: dict, event: dict) -> str:
    subscription, metadata = _invoice_subscription(invoice)
    if subscription:
        return _membership_invoice_paid(invoice, event, subscription, metadata)
    payment = _by_column(Payment.stripe_invoice_id, invoice.get("id")) or _by_metadata(
        invoice.get("metadata")
    )
    if payment is None:
        return NO_MATCH
    _attach_invoice(payment, invoice)
    return _mark_paid_if_billed(payment, invoice.get("amount_paid"), invoice.get("currency"))


def _attach_invoice(payment: Payment, invoice: dict) -> None:
    payment.stripe_invoice_id = payment.stripe_invoice_id or invoice["id"]
    payment.receipt_url = invoice.get("hosted_invoice_url") or payment.receipt_url
    payment.stripe_payment_intent_id = payment.stripe_payment_intent_id or _invoice_intent(invoice)


def invoice_payment_failed(invoice: dict, event: dict) -> str:
    subscription, metadata = _invoice_subscription(invoice)
    if subscription:
        original = _subscription_row(subscription, metadata)
        if original is None:
            return NO_MATCH
        return _membership_state(original, event, MembershipStatus.PAST_DUE)
    payment = _by_column(Payment.stripe_invoice_id, invoice.get("id")) or _by_metadata(
        invoice.get("metadata")
    )
    if payment is None:
        return NO_MATCH
    if payment.status != PaymentStatus.PENDING:
        return f"unchanged: already {payment.status}"
    payment.status = PaymentStatus.FAILED
    return "failed"


# ---- Memberships -------------------------------------------------------------------------------


def _subscription_row(subscription: str, metadata: dict | None) -> Payment | None:
    """The membership row that started this subscription through Checkout."""
    payment = _by_column(Payment.stripe_subscription_id, subscription) or _by_metadata(metadata)
    if payment is not None and payment.purpose == PaymentPurpose.MEMBERSHIP:
        payment.stripe_subscription_id = payment.stripe_subscription_id or subscription
        return payment
    return None


def _membership_state(
    payment: Payment, event: dict, status: MembershipStatus, until: datetime | None = None
) -> str:
    """Set the organisation's membership from this event, unless a newer one already did."""
    if payment.status == PaymentStatus.CANCELED:
        return "unchanged: the subscription has ended"
    created = int(event.get("created") or 0)
    # The row keeps the `created` time of the newest event applied to this subscription.
    if payment.stripe_object_created and created < payment.stripe_object_created:
        return "unchanged: a newer event was applied first"
    payment.stripe_object_created = created
    organisation = db.session.get(Organisation, payment.organisation_id)
    organisation.membership_status = status
    if until is not None:
        organisation.membership_until = until
    return f"membership {status}"


def _membership_started(payment: Payment, session: dict, event: dict) -> str:
    payment.stripe_subscription_id = payment.stripe_subscription_id or session.get("subscription")
    organisation = db.session.get(Organisation, payment.organisation_id)
    organisation.stripe_customer_id = organisation.stripe_customer_id or session.get("customer")
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.EXPIRED, PaymentStatus.FAILED):
        payment.status = PaymentStatus.PAID
    return _membership_state(payment, event, MembershipStatus.ACTIVE)


def _membership_invoice_paid(invoice: dict, event: dict, subscription: str, metadata: dict) -> str:
    """A membership period is paid: the first invoice fills the Checkout row, later ones add."""
    original = _subscription_row(subscription, metadata)
    if original is None:
        return NO_MATCH
    row = _by_column(Payment.stripe_invoice_id, invoice["id"])
    if row is None:
        row = original if original.stripe_invoice_id is None else _renewal(original, invoice)
    _attach_invoice(row, invoice)
    if row.status in (PaymentStatus.PENDING, PaymentStatus.EXPIRED, PaymentStatus.FAILED):
        row.status = PaymentStatus.PAID
    ends = [line.get("period", {}).get("end") for line in invoice.get("lines", {}).get("data", [])]
    return _membership_state(
        original, event, MembershipStatus.ACTIVE, _timestamp(max(filter(None, ends), default=None))
    )


def _renewal(original: Payment, invoice: dict) -> Payment:
    """A payment row for a renewal invoice, so the history shows every period paid."""
    renewal = Payment(
        purpose=PaymentPurpose.MEMBERSHIP,
        status=PaymentStatus.PENDING,
        user_id=original.user_id,
        organisation_id=original.organisation_id,
        interval=original.interval,
        currency=invoice["currency"].upper(),
        amount=from_minor(invoice.get("amount_paid") or 0, invoice["currency"]),
        idempotency_key=f"stripe-{invoice['id']}",
        stripe_subscription_id=original.stripe_subscription_id,
    )
    db.session.add(renewal)
    return renewal


def _period_end(subscription: dict) -> datetime | None:
    """The end of the paid period (on the items in current API versions, on top in older ones)."""
    items = (subscription.get("items") or {}).get("data") or []
    ends = [item.get("current_period_end") for item in items]
    return _timestamp(max(filter(None, ends), default=subscription.get("current_period_end")))


def subscription_changed(subscription: dict, event: dict) -> str:
    original = _subscription_row(subscription["id"], subscription.get("metadata"))
    if original is None:
        return NO_MATCH
    status = subscription.get("status")
    if status in SUBSCRIPTION_ENDED or event["type"] == "customer.subscription.deleted":
        return _membership_ended(original, event)
    if status not in SUBSCRIPTION_STATES:
        return f"unchanged: subscription {status}"
    return _membership_state(
        original, event, SUBSCRIPTION_STATES[status], _period_end(subscription)
    )


def _membership_ended(original: Payment, event: dict) -> str:
    """The subscription is over for good: rights go, the records stay."""
    if original.status == PaymentStatus.CANCELED:
        return "unchanged: the subscription has ended"
    original.status = PaymentStatus.CANCELED
    original.stripe_object_created = max(
        original.stripe_object_created or 0, int(event.get("created") or 0)
    )
    other = db.session.scalar(
        select(Payment.id)
        .where(
            Payment.organisation_id == original.organisation_id,
            Payment.purpose == PaymentPurpose.MEMBERSHIP,
            Payment.status == PaymentStatus.PAID,
            Payment.stripe_checkout_session_id.is_not(None),
            Payment.stripe_subscription_id != original.stripe_subscription_id,
        )
        .limit(1)
    )
    if other is not None:
        return "ended: another subscription continues"
    db.session.get(
        Organisation, original.organisation_id
    ).membership_status = MembershipStatus.LAPSED
    return "membership lapsed"


HANDLERS = {
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": checkout_completed,
    "checkout.session.async_payment_failed": checkout_closed,
    "checkout.session.expired": checkout_closed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "charge.refunded": charge_refunded,
}
