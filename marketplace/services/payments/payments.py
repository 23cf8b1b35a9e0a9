"""Checkout for listing fees and memberships, the customer portal, and listing-fee waivers.

Each use-case first commits our Payment row with its idempotency key, then calls Stripe with that
key, then stores Stripe's ids. Whether money arrived is decided only by the webhook
(`handlers`).
"""

from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.links import external_url
from marketplace.models import (
    FeeKind,
    FeeStatus,
    FinancingNeed,
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
from marketplace.payments.gateway import CheckoutRequest, GatewayError, is_configured
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.payments.fees import (
    INTERVAL_FEES,
    amount_due,
    default_currency,
    fee_schedule,
)
from marketplace.services.payments.stripe_calls import (
    STAFF,
    gateway_failure,
    gateway_or_409,
    metadata,
    new_key,
)

LIVE_MEMBERSHIP = (MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE)
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


def _reusable_or_new(
    purpose: PaymentPurpose,
    user: User,
    amount: Decimal,
    currency: str,
    need_id: int | None = None,
    interval: str | None = None,
) -> Payment:
    """A pending row of the same charge from the last minutes (a double click), or a new one."""
    pending = db.session.scalar(
        select(Payment)
        .where(
            Payment.purpose == purpose,
            Payment.organisation_id == user.organisation_id,
            Payment.need_id == need_id,
            Payment.interval == interval,
            Payment.status == PaymentStatus.PENDING,
            Payment.amount == amount,
            Payment.currency == currency,
            Payment.created_at >= utcnow() - REUSE_WINDOW,
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )
    if pending is not None:
        return pending
    payment = Payment(
        purpose=purpose,
        status=PaymentStatus.PENDING,
        user_id=user.id,
        organisation_id=user.organisation_id,
        need_id=need_id,
        interval=interval,
        amount=amount,
        currency=currency,
        idempotency_key=new_key(purpose),
    )
    db.session.add(payment)
    db.session.flush()
    record(
        f"payment.{purpose}_started",
        actor=user,
        target=payment,
        amount=str(amount),
        currency=currency,
    )
    db.session.commit()
    return payment


def _checkout(payment: Payment, mode: str, name: str, **fields) -> str:
    """Create (or, for the same key, get back) the Checkout Session; returns its URL."""
    request = CheckoutRequest(
        mode=mode,
        amount=payment.amount,
        currency=payment.currency,
        product_name=name,
        metadata=metadata(payment),
        reference=str(payment.id),
        success_url=external_url("billing.checkout_success"),
        cancel_url=external_url("billing.checkout_cancel"),
        expires_at=int((payment.created_at + CHECKOUT_LIFETIME).timestamp()),
        **fields,
    )
    try:
        session = gateway_or_409().create_checkout_session(request, payment.idempotency_key)
    except GatewayError as error:
        _give_up(payment, error)
        raise gateway_failure(
            error, _l("Stripe could not open the payment page: %(error)s", error=str(error))
        ) from error
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
    gateway_or_409()
    if user.role != Role.OWNER or need.organisation_id != user.organisation_id:
        raise ServiceError(_l("Only the need's owner pays its listing fee."), 403)
    if need.fee_status != FeeStatus.UNPAID:
        raise ServiceError(_l("The listing fee of this need is already settled."), 409)
    if need.status != NeedStatus.SUBMITTED:
        raise ServiceError(_l("Submit the need for review first; then pay its listing fee."), 409)
    currency, amount = amount_due(FeeKind.LISTING_FEE, currency)
    payment = _reusable_or_new(PaymentPurpose.LISTING_FEE, user, amount, currency, need_id=need.id)
    title = need.title_en or need.title_zh or f"#{need.id}"
    invoice = {
        "invoice_creation": {"enabled": True, "invoice_data": {"metadata": metadata(payment)}}
    }
    return _checkout(
        payment, "payment", f"Listing fee: {title}"[:250], customer_email=user.email, extra=invoice
    )


@transactional
def start_membership_checkout(user: User, interval: str, currency: str | None = None) -> str:
    """Open Stripe Checkout for a monthly or yearly investor membership; returns its URL."""
    gateway_or_409()
    if user.role != Role.INVESTOR:
        raise ServiceError(_l("Memberships are for investors."), 403)
    if interval not in INTERVAL_FEES:
        raise ServiceError(_l("Choose a monthly or a yearly membership."))
    organisation = db.session.get(Organisation, user.organisation_id)
    if organisation.membership_status in LIVE_MEMBERSHIP:
        raise ServiceError(
            _l(
                "Your organisation already has a membership. Manage it in the "
                "Stripe customer portal."
            ),
            409,
        )
    currency, amount = amount_due(INTERVAL_FEES[interval], currency)
    payment = _reusable_or_new(PaymentPurpose.MEMBERSHIP, user, amount, currency, interval=interval)
    return _checkout(
        payment,
        "subscription",
        f"Investor membership ({interval}ly)",
        interval=interval,
        customer=organisation.stripe_customer_id,
        customer_email=user.email,
    )


def portal_url(user: User) -> str:
    """A Stripe customer-portal session for the user's organisation, to manage its membership."""
    organisation = db.session.get(Organisation, user.organisation_id)
    if organisation is None or not organisation.stripe_customer_id:
        raise ServiceError(_l("Your organisation has no membership with Stripe yet."), 409)
    # A portal session charges nothing and expires within minutes: a fresh key per click.
    try:
        return gateway_or_409().create_portal_session(
            organisation.stripe_customer_id, external_url("billing.membership"), new_key("portal")
        )
    except GatewayError as error:
        raise gateway_failure(
            error, _l("Stripe could not open the portal: %(error)s", error=str(error))
        ) from error


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
    payment = Payment(
        purpose=PaymentPurpose.LISTING_FEE,
        status=PaymentStatus.WAIVED,
        user_id=need.created_by_id,
        organisation_id=need.organisation_id,
        need_id=need.id,
        amount=amounts.get(currency, Decimal("0")),
        currency=currency,
        idempotency_key=new_key("waiver"),
        waived_by_id=actor.id,
        waive_reason=reason.strip(),
    )
    need.fee_status = FeeStatus.WAIVED
    db.session.add(payment)
    db.session.flush()
    record(
        "payment.listing_fee_waived",
        actor=actor,
        target=need,
        payment_id=payment.id,
        reason=reason.strip(),
    )
    db.session.commit()
    return payment
