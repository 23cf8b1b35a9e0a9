"""Refunds of paid payments, whole or in part, with a reason; the webhook records the result."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from marketplace.extensions import db
from marketplace.i18n import money
from marketplace.models import Payment, PaymentStatus, Role, User
from marketplace.payments.gateway import GatewayError
from marketplace.payments.money import to_minor
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.payments.stripe_calls import gateway_failure, gateway_or_409, metadata

REFUNDABLE = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)


@transactional
def refund(payment: Payment, amount: Decimal | None, reason: str, actor: User) -> None:
    """Ask Stripe to refund all or part of a payment; the webhook records the refund."""
    amount = _check_refund(payment, amount, reason, actor)
    gateway = gateway_or_409()
    try:
        intent = _payment_intent_of(payment, gateway)
        # The key names the refund by what was refunded before it: a double click repeats it.
        key = (
            f"{payment.idempotency_key}:refund:"
            f"{to_minor(payment.amount_refunded, payment.currency)}:"
            f"{to_minor(amount, payment.currency)}"
        )
        payment.refund_reason = "\n".join(
            filter(None, [payment.refund_reason, f"{amount} {payment.currency}: {reason}"])
        )
        record(
            "payment.refund_requested",
            actor=actor,
            target=payment,
            amount=str(amount),
            reason=reason.strip(),
            idempotency_key=key,
        )
        db.session.commit()
        created = gateway.create_refund(intent, amount, payment.currency, metadata(payment), key)
    except GatewayError as error:
        raise gateway_failure(
            error, _l("Stripe refused the refund: %(error)s", error=str(error))
        ) from error
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
        raise ServiceError(
            _l(
                "The refund must be above zero and at most %(remaining)s.",
                remaining=money(remaining, payment.currency),
            )
        )
    return amount


def _payment_intent_of(payment: Payment, gateway) -> str:
    """The PaymentIntent that took the money; invoices name it only in their payment list."""
    if not payment.stripe_payment_intent_id and payment.stripe_invoice_id:
        payment.stripe_payment_intent_id = gateway.invoice_payment_intent(payment.stripe_invoice_id)
    if not payment.stripe_payment_intent_id:
        raise ServiceError(_l("Stripe holds no charge for this payment to refund."), 409)
    return payment.stripe_payment_intent_id
