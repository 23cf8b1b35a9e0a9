"""Payments: Checkout for listing fees and memberships, success-fee invoices, refunds, waivers.

Each use-case first commits our Payment row with its idempotency key, then calls Stripe with that
key, then stores Stripe's ids. Whether money arrived is decided only by the webhook
(`handlers`).
"""
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.i18n import money
from marketplace.models import (
    FeeKind,
    FeeStatus,
    FinancingNeed,
    Match,
    MatchStatus,
    MembershipStatus,
    NeedStatus,
    Organisation,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Role,
    User,
    utcnow,
)
from marketplace.payments.gateway import CheckoutRequest, GatewayError, get_gateway, is_configured
from marketplace.payments.money import exponent, to_minor
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.payments.fees import (
    INTERVAL_FEES,
    amount_due,
    default_currency,
    fee_schedule,
)

LIVE_MEMBERSHIP = (MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE)
REFUNDABLE = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)
STAFF = (Role.BROKER, Role.ADMIN)
# Stripe keeps a Checkout page open for at least 30 minutes; ours closes after an hour, and a
# second click within 50 minutes reuses the same row and key, so Stripe returns the same page.
CHECKOUT_LIFETIME = timedelta(hours=1)
REUSE_WINDOW = timedelta(minutes=50)


def payments_configured() -> bool:
    """True when a Stripe key is set; without one nothing can be charged."""
    return is_configured()


def has_membership_rights(organisation: Organisation | None) -> bool:
    """Whether an investor organisation may use member rights (contacts, alerts, documents)."""
    # Without Stripe nobody can buy a membership, so nobody is held back for lacking one; a
    # past-due membership keeps its rights while Stripe retries the payment.
    if not payments_configured():
        return True
    return organisation is not None and organisation.membership_status in LIVE_MEMBERSHIP


def _gateway():
    gateway = get_gateway()
    if gateway is None:
        raise ServiceError(_l("Payments are not configured on this site."), 409)
    return gateway


def _new_key(purpose: str) -> str:
    return f"gsr-{purpose}-{uuid.uuid4().hex}"


def _reusable_or_new(purpose: PaymentPurpose, user: User, amount: Decimal, currency: str,
                     need_id: int | None = None, interval: str | None = None) -> Payment:
    """A pending row of the same charge from the last minutes (a double click), or a new one."""
    pending = db.session.scalar(select(Payment).where(
        Payment.purpose == purpose, Payment.organisation_id == user.organisation_id,
        Payment.need_id == need_id, Payment.interval == interval,
        Payment.status == PaymentStatus.PENDING, Payment.amount == amount,
        Payment.currency == currency, Payment.created_at >= utcnow() - REUSE_WINDOW,
    ).order_by(Payment.id.desc()).limit(1))
    if pending is not None:
        return pending
    payment = Payment(purpose=purpose, status=PaymentStatus.PENDING, user_id=user.id,
                      organisation_id=user.organisation_id, need_id=need_id, interval=interval,
                      amount=amount, currency=currency, idempotency_key=_new_key(purpose))
    db.session.add(payment)
    db.session.flush()
    record(f"payment.{purpose}_started", actor=user, target=payment, amount=str(amount),
           currency=currency)
    db.session.commit()
    return payment


def _metadata(payment: Payment) -> dict[str, str]:
    data = {"payment_id": str(payment.id), "purpose": str(payment.purpose),
            "organisation_id": str(payment.organisation_id)}
    if payment.need_id:
        data["need_id"] = str(payment.need_id)
    if payment.match_id:
        data["match_id"] = str(payment.match_id)
    return data


def _checkout(payment: Payment, mode: str, name: str, **fields) -> str:
    """Create (or, for the same key, get back) the Checkout Session; returns its URL."""
    request = CheckoutRequest(
        mode=mode, amount=payment.amount, currency=payment.currency, product_name=name,
        metadata=_metadata(payment), reference=str(payment.id),
        success_url=url_for("billing.checkout_success", _external=True),
        cancel_url=url_for("billing.checkout_cancel", _external=True),
        expires_at=int((payment.created_at + CHECKOUT_LIFETIME).timestamp()), **fields)
    try:
        session = _gateway().create_checkout_session(request, payment.idempotency_key)
    except GatewayError as error:
        _give_up(payment, error)
        raise ServiceError(_l("Stripe could not open the payment page: %(error)s",
                              error=str(error)), 502) from error
    payment.stripe_checkout_session_id = session["id"]
    payment.stripe_object_created = payment.stripe_object_created or session.get("created")
    db.session.commit()
    return session["url"]


def _give_up(payment: Payment, error: GatewayError) -> None:
    """A refused call will be refused again with the same key: let the next try use a new row."""
    if not error.retryable:
        payment.status = PaymentStatus.CANCELED
        db.session.commit()


@transactional
def start_listing_fee_checkout(need: FinancingNeed, user: User, currency: str | None = None) -> str:
    """Open Stripe Checkout for the listing fee of a submitted need; returns the page's URL."""
    _gateway()
    if user.role != Role.OWNER or need.organisation_id != user.organisation_id:
        raise ServiceError(_l("Only the need's owner pays its listing fee."), 403)
    if need.fee_status != FeeStatus.UNPAID:
        raise ServiceError(_l("The listing fee of this need is already settled."), 409)
    if need.status != NeedStatus.SUBMITTED:
        raise ServiceError(_l("Submit the need for review first; then pay its listing fee."), 409)
    currency, amount = amount_due(FeeKind.LISTING_FEE, currency)
    payment = _reusable_or_new(PaymentPurpose.LISTING_FEE, user, amount, currency,
                               need_id=need.id)
    title = need.title_en or need.title_zh or f"#{need.id}"
    invoice = {"invoice_creation": {"enabled": True,
                                    "invoice_data": {"metadata": _metadata(payment)}}}
    return _checkout(payment, "payment", f"Listing fee: {title}"[:250],
                     customer_email=user.email, extra=invoice)


@transactional
def start_membership_checkout(user: User, interval: str, currency: str | None = None) -> str:
    """Open Stripe Checkout for a monthly or yearly investor membership; returns its URL."""
    _gateway()
    if user.role != Role.INVESTOR:
        raise ServiceError(_l("Memberships are for investors."), 403)
    if interval not in INTERVAL_FEES:
        raise ServiceError(_l("Choose a monthly or a yearly membership."))
    organisation = db.session.get(Organisation, user.organisation_id)
    if organisation.membership_status in LIVE_MEMBERSHIP:
        raise ServiceError(_l("Your organisation already has a membership. Manage it in the "
                              "Stripe customer portal."), 409)
    currency, amount = amount_due(INTERVAL_FEES[interval], currency)
    payment = _reusable_or_new(PaymentPurpose.MEMBERSHIP, user, amount, currency,
                               interval=interval)
    return _checkout(payment, "subscription", f"Investor membership ({interval}ly)",
                     interval=interval, customer=organisation.stripe_customer_id,
                     customer_email=user.email)


def portal_url(user: User) -> str:
    """A Stripe customer-portal session for the user's organisation, to manage its membership."""
    organisation = db.session.get(Organisation, user.organisation_id)
    if organisation is None or not organisation.stripe_customer_id:
        raise ServiceError(_l("Your organisation has no membership with Stripe yet."), 409)
    # A portal session charges nothing and expires within minutes: a fresh key per click.
    try:
        return _gateway().create_portal_session(
            organisation.stripe_customer_id, url_for("billing.membership", _external=True),
            _new_key("portal"))
    except GatewayError as error:
        raise ServiceError(_l("Stripe could not open the portal: %(error)s",
                              error=str(error)), 502) from error


@transactional
def waive_listing_fee(need: FinancingNeed, reason: str, actor: User) -> Payment:
    """Let a need be published without its listing fee; brokers and admins, with a reason."""
    if actor.role not in STAFF:
        raise ServiceError(_l("Only brokers and administrators waive fees."), 403)
    if not (reason or "").strip():
        raise ServiceError(_l("Give a reason for the waiver."))
    if need.fee_status != FeeStatus.UNPAID:
        raise ServiceError(_l("The listing fee of this need is already settled."), 409)
    amounts = fee_schedule()[FeeKind.LISTING_FEE]
    currency = default_currency(amounts) or "USD"
    payment = Payment(purpose=PaymentPurpose.LISTING_FEE, status=PaymentStatus.WAIVED,
                      user_id=need.created_by_id, organisation_id=need.organisation_id,
                      need_id=need.id, amount=amounts.get(currency, Decimal("0")),
                      currency=currency, idempotency_key=_new_key("waiver"),
                      waived_by_id=actor.id, waive_reason=reason.strip())
    need.fee_status = FeeStatus.WAIVED
    db.session.add(payment)
    db.session.flush()
    record("payment.listing_fee_waived", actor=actor, target=need, payment_id=payment.id,
           reason=reason.strip())
    db.session.commit()
    return payment


def success_fee_amount(match: Match, percent: Decimal) -> Decimal:
    """The fee on the amount financed, rounded to the currency's smallest unit."""
    unit = Decimal(1).scaleb(-exponent(match.amount_financed_currency))
    return (match.amount_financed * percent / 100).quantize(unit, ROUND_HALF_UP)


@transactional
def raise_success_fee_invoice(match: Match, percent: Decimal, actor: User) -> Payment:
    """Invoice the project's organisation, through Stripe Invoicing, for a deal closed won."""
    _check_success_fee(match, percent, actor)
    gateway = _gateway()
    match.success_fee_percent = percent
    payment = _success_fee_row(match, success_fee_amount(match, percent), actor)
    need = db.session.get(FinancingNeed, match.need_id)
    description = f"Success fee {percent}% on {match.amount_financed} " \
                  f"{match.amount_financed_currency} financed: {need.title_en or need.title_zh}"
    try:
        customer = _customer_for(payment, gateway)
        invoice = gateway.create_invoice(customer, payment.currency, description[:500],
                                         _metadata(payment), f"{payment.idempotency_key}:invoice")
        payment.stripe_invoice_id = invoice["id"]
        db.session.commit()
        gateway.add_invoice_item(invoice, payment.amount, description[:500], _metadata(payment),
                                 f"{payment.idempotency_key}:item")
        sent = gateway.finalize_and_send_invoice(invoice["id"], payment.idempotency_key)
    except GatewayError as error:
        raise ServiceError(_l("Stripe could not raise the invoice: %(error)s",
                              error=str(error)), 502) from error
    payment.receipt_url = sent.get("hosted_invoice_url")
    payment.stripe_object_created = sent.get("created")
    record("payment.success_fee_invoiced", actor=actor, target=match, payment_id=payment.id,
           invoice=invoice["id"], percent=str(percent), amount=str(payment.amount))
    db.session.commit()
    return payment


def _check_success_fee(match: Match, percent: Decimal, actor: User) -> None:
    if actor.role not in STAFF:
        raise ServiceError(_l("Only brokers and administrators raise success-fee invoices."), 403)
    if match.status != MatchStatus.CLOSED_WON:
        raise ServiceError(_l("Only a deal closed won has a success fee."), 409)
    if not match.amount_financed or not match.amount_financed_currency:
        raise ServiceError(_l("Record the amount financed before invoicing the success fee."),
                           409)
    if not Decimal("0") < percent <= Decimal("100"):
        raise ServiceError(_l("The success fee must be above 0% and at most 100%."))


def _success_fee_row(match: Match, amount: Decimal, actor: User) -> Payment:
    """The deal's invoice row: reused after an interrupted attempt, refused once invoiced."""
    currency = match.amount_financed_currency
    earlier = db.session.scalar(select(Payment).where(
        Payment.match_id == match.id, Payment.purpose == PaymentPurpose.SUCCESS_FEE,
        Payment.status.not_in([PaymentStatus.CANCELED, PaymentStatus.FAILED])).limit(1))
    if earlier is not None:
        if earlier.receipt_url or earlier.status != PaymentStatus.PENDING:
            raise ServiceError(_l("The success fee of this deal has already been invoiced."), 409)
        if (earlier.amount, earlier.currency) == (amount, currency):
            return earlier
        # An interrupted attempt at another amount: its draft invoice is never sent.
        earlier.status = PaymentStatus.CANCELED
    need = db.session.get(FinancingNeed, match.need_id)
    payment = Payment(purpose=PaymentPurpose.SUCCESS_FEE, status=PaymentStatus.PENDING,
                      user_id=need.created_by_id, organisation_id=need.organisation_id,
                      need_id=need.id, match_id=match.id, amount=amount, currency=currency,
                      idempotency_key=_new_key("success_fee"))
    db.session.add(payment)
    db.session.flush()
    record("payment.success_fee_started", actor=actor, target=payment, amount=str(amount))
    db.session.commit()
    return payment


def _customer_for(payment: Payment, gateway) -> str:
    """The paying organisation's Stripe customer, created once (the key makes a retry safe)."""
    organisation = db.session.get(Organisation, payment.organisation_id)
    if not organisation.stripe_customer_id:
        user = db.session.get(User, payment.user_id)
        organisation.stripe_customer_id = gateway.create_customer(
            organisation.name, user.email if user else None,
            {"organisation_id": str(organisation.id)}, f"{payment.idempotency_key}:customer")
        db.session.commit()
    return organisation.stripe_customer_id


@transactional
def refund(payment: Payment, amount: Decimal | None, reason: str, actor: User) -> None:
    """Ask Stripe to refund all or part of a payment; the webhook records the refund."""
    amount = _check_refund(payment, amount, reason, actor)
    gateway = _gateway()
    try:
        intent = _payment_intent_of(payment, gateway)
        # The key names the refund by what was refunded before it: a double click repeats it.
        key = (f"{payment.idempotency_key}:refund:"
               f"{to_minor(payment.amount_refunded, payment.currency)}:"
               f"{to_minor(amount, payment.currency)}")
        payment.refund_reason = "\n".join(filter(None, [payment.refund_reason,
                                                        f"{amount} {payment.currency}: {reason}"]))
        record("payment.refund_requested", actor=actor, target=payment, amount=str(amount),
               reason=reason.strip(), idempotency_key=key)
        db.session.commit()
        created = gateway.create_refund(intent, amount, payment.currency, _metadata(payment), key)
    except GatewayError as error:
        raise ServiceError(_l("Stripe refused the refund: %(error)s", error=str(error)),
                           502) from error
    record("payment.refund_created", actor=actor, target=payment, refund=created["id"])
    db.session.commit()


def _check_refund(payment: Payment, amount: Decimal | None, reason: str, actor: User) -> Decimal:
    """The amount to refund (the rest of the payment when none is given), or ServiceError."""
    if actor.role != Role.ADMIN:
        raise ServiceError(_l("Only administrators refund payments."), 403)
    if not (reason or "").strip():
        raise ServiceError(_l("Give a reason for the refund."))
    if payment.status not in REFUNDABLE:
        raise ServiceError(_l("Only a paid payment can be refunded."), 409)
    remaining = payment.amount - payment.amount_refunded
    amount = remaining if amount is None else amount
    if not Decimal("0") < amount <= remaining:
        raise ServiceError(_l("The refund must be above zero and at most %(remaining)s.",
                              remaining=money(remaining, payment.currency)))
    return amount


def _payment_intent_of(payment: Payment, gateway) -> str:
    """The PaymentIntent that took the money; invoices name it only in their payment list."""
    if not payment.stripe_payment_intent_id and payment.stripe_invoice_id:
        payment.stripe_payment_intent_id = gateway.invoice_payment_intent(
            payment.stripe_invoice_id)
    if not payment.stripe_payment_intent_id:
        raise ServiceError(_l("Stripe holds no charge for this payment to refund."), 409)
    return payment.stripe_payment_intent_id
