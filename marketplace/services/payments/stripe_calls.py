"""How every payment use-case calls Stripe: the gateway or a 409, idempotency keys, metadata."""

import uuid

from flask_babel import lazy_gettext as _l

from marketplace.models import Payment, Role
from marketplace.payments.gateway import GatewayError, get_gateway
from marketplace.services import ServiceError

STAFF = (Role.BROKER, Role.ADMIN)


def gateway_or_409():
    """The configured Stripe gateway; 409 when payments are not configured on this site."""
    gateway = get_gateway()
    if gateway is None:
        raise ServiceError(_l("Payments are not configured on this site."), 409)
    return gateway


def gateway_failure(error: GatewayError, refused) -> ServiceError:
    """What the user reads: Stripe not answering (try again; the same key is reused) or the
    reason Stripe refused the call (`refused`)."""
    if error.retryable:
        return ServiceError(str(error), 503)
    return ServiceError(refused, 502)


def new_key(purpose: str) -> str:
    """A fresh idempotency key, saved on our row before the Stripe call that uses it."""
    return f"gsr-{purpose}-{uuid.uuid4().hex}"


def metadata(payment: Payment) -> dict[str, str]:
    """Our ids, sent with every Stripe object so that its webhook events lead back to the row."""
    data = {
        "payment_id": str(payment.id),
        "purpose": str(payment.purpose),
        "organisation_id": str(payment.organisation_id),
    }
    if payment.need_id:
        data["need_id"] = str(payment.need_id)
    if payment.match_id:
        data["match_id"] = str(payment.match_id)
    return data
