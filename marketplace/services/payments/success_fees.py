"""Success fees: a percentage of the amount financed, invoiced through Stripe Invoicing when a
broker closes a deal won. Whether it was paid is decided by the webhook (`handlers`)."""

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    FinancingNeed,
    Match,
    MatchStatus,
    Organisation,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    User,
)
from marketplace.payments.gateway import GatewayError
from marketplace.payments.money import exponent
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.payments.stripe_calls import (
    STAFF,
    gateway_failure,
    gateway_or_409,
    metadata,
    new_key,
)


def success_fee_amount(match: Match, percent: Decimal) -> Decimal:
    """The fee on the amount financed, rounded to the currency's smallest unit."""
    unit = Decimal(1).scaleb(-exponent(match.amount_financed_currency))
    return (match.amount_financed * percent / 100).quantize(unit, ROUND_HALF_UP)


@transactional
def raise_success_fee_invoice(match: Match, percent: Decimal, actor: User) -> Payment:
    """Invoice the project's organisation, through Stripe Invoicing, for a deal closed won."""
    _check_success_fee(match, percent, actor)
    gateway = gateway_or_409()
    match.success_fee_percent = percent
    payment = _success_fee_row(match, success_fee_amount(match, percent), actor)
    need = db.session.get(FinancingNeed, match.need_id)
    description = (
        f"Success fee {percent}% on {match.amount_financed} "
        f"{match.amount_financed_currency} financed: {need.title_en or need.title_zh}"
    )
    try:
        customer = _customer_for(payment, gateway)
        invoice = gateway.create_invoice(
            customer,
            payment.currency,
            description[:500],
            metadata(payment),
            f"{payment.idempotency_key}:invoice",
        )
        payment.stripe_invoice_id = invoice["id"]
        db.session.commit()
        gateway.add_invoice_item(
            invoice,
            payment.amount,
            description[:500],
            metadata(payment),
            f"{payment.idempotency_key}:item",
        )
        sent = gateway.finalize_and_send_invoice(invoice["id"], payment.idempotency_key)
    except GatewayError as error:
        raise gateway_failure(
            error, _l("Stripe could not raise the invoice: %(error)s", error=str(error))
        ) from error
    payment.receipt_url = sent.get("hosted_invoice_url")
    payment.stripe_object_created = sent.get("created")
    record(
        "payment.success_fee_invoiced",
        actor=actor,
        target=match,
        payment_id=payment.id,
        invoice=invoice["id"],
        percent=str(percent),
        amount=str(payment.amount),
    )
    db.session.commit()
    return payment


def _check_success_fee(match: Match, percent: Decimal, actor: User) -> None:
    if actor.role not in STAFF:
        raise ServiceError(_l("Only brokers and administrators raise success-fee invoices."), 403)
    if match.status != MatchStatus.CLOSED_WON:
        raise ServiceError(_l("Only a deal closed won has a success fee."), 409)
    if not match.amount_financed or not match.amount_financed_currency:
        raise ServiceError(_l("Record the amount financed before invoicing the success fee."), 409)
    if not Decimal("0") < percent <= Decimal("100"):
        raise ServiceError(_l("The success fee must be above 0% and at most 100%."))


def _success_fee_row(match: Match, amount: Decimal, actor: User) -> Payment:
    """The deal's invoice row: reused after an interrupted attempt, refused once invoiced."""
    currency = match.amount_financed_currency
    earlier = db.session.scalar(
        select(Payment)
        .where(
            Payment.match_id == match.id,
            Payment.purpose == PaymentPurpose.SUCCESS_FEE,
            Payment.status.not_in([PaymentStatus.CANCELED, PaymentStatus.FAILED]),
        )
        .limit(1)
    )
    if earlier is not None:
        if earlier.receipt_url or earlier.status != PaymentStatus.PENDING:
            raise ServiceError(_l("The success fee of this deal has already been invoiced."), 409)
        if (earlier.amount, earlier.currency) == (amount, currency):
            return earlier
        # An interrupted attempt at another amount: its draft invoice is never sent.
        earlier.status = PaymentStatus.CANCELED
    need = db.session.get(FinancingNeed, match.need_id)
    payment = Payment(
        purpose=PaymentPurpose.SUCCESS_FEE,
        status=PaymentStatus.PENDING,
        user_id=need.created_by_id,
        organisation_id=need.organisation_id,
        need_id=need.id,
        match_id=match.id,
        amount=amount,
        currency=currency,
        idempotency_key=new_key("success_fee"),
    )
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
            organisation.name,
            user.email if user else None,
            {"organisation_id": str(organisation.id)},
            f"{payment.idempotency_key}:customer",
        )
        db.session.commit()
    return organisation.stripe_customer_id
