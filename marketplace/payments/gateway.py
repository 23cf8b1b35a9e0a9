"""The one class that talks to Stripe: real test or live keys, or a stand-in at STRIPE_API_BASE."""

import logging
from dataclasses import dataclass, field
from decimal import Decimal

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.payments.money import stripe_currency, to_minor

log = logging.getLogger(__name__)

# What a user reads when Stripe answers 5xx or not at all: every call that creates something
# carries our idempotency key, so trying again never charges (or refunds) twice.
STRIPE_UNAVAILABLE = _l(
    "Stripe, our payment provider, is not answering just now. Please try again in a few "
    "minutes: nothing has been charged, and trying again never charges twice."
)


class GatewayError(Exception):
    """Stripe refused the call or could not be reached; the message is safe to show."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        # Only a call that may have reached Stripe is worth repeating with the same key.
        self.retryable = retryable


@dataclass
class CheckoutRequest:
    """What one Checkout Session charges for; amounts are Decimal, converted at the edge."""

    mode: str  # "payment" or "subscription"
    amount: Decimal
    currency: str
    product_name: str
    metadata: dict[str, str]
    success_url: str
    cancel_url: str
    expires_at: int
    interval: str | None = None  # "month" or "year" for subscriptions
    customer: str | None = None
    customer_email: str | None = None
    reference: str | None = None
    extra: dict = field(default_factory=dict)


class StripeGateway:
    """Creates Checkout Sessions, portal sessions, invoices and refunds; always with a key."""

    def __init__(
        self, secret_key: str, api_base: str | None = None, retries: int = 1, timeout: float = 10.0
    ):
        options = {"base_addresses": {"api": api_base.rstrip("/")}} if api_base else {}
        # Retries are safe because every creating call carries our idempotency key. The timeout
        # bounds a request's wait on Stripe to about (retries + 1) x timeout, well inside the
        # web worker's own timeout (the SDK's default is 80 s per try).
        self._client = stripe.StripeClient(
            secret_key,
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout),
            **options,
        )

    @classmethod
    def from_config(cls, config) -> "StripeGateway | None":
        """A gateway for the configured key, or None when payments are not configured."""
        key = config.get("STRIPE_SECRET_KEY")
        if not key:
            return None
        return cls(
            key,
            config.get("STRIPE_API_BASE"),
            retries=int(config.get("STRIPE_MAX_NETWORK_RETRIES", 1)),
            timeout=float(config.get("STRIPE_TIMEOUT_SECONDS", 10)),
        )

    def _call(self, method, *args, **kwargs) -> dict:
        try:
            return method(*args, **kwargs).to_dict()
        except stripe.StripeError as error:
            log.warning("Stripe call failed: %s", error)
            retryable = (
                isinstance(error, stripe.APIConnectionError | stripe.RateLimitError)
                or (error.http_status or 0) >= 500
            )
            if retryable:
                raise GatewayError(str(STRIPE_UNAVAILABLE), retryable) from error
            raise GatewayError(
                error.user_message or "Stripe could not complete the request.", retryable
            ) from error

    def create_checkout_session(self, request: CheckoutRequest, idempotency_key: str) -> dict:
        """A hosted Checkout page in payment or subscription mode; returns the session."""
        return self._call(
            self._client.v1.checkout.sessions.create,
            _checkout_params(request),
            {"idempotency_key": idempotency_key},
        )

    def create_portal_session(self, customer: str, return_url: str, idempotency_key: str) -> str:
        """The URL of a customer-portal session where a customer manages a subscription."""
        session = self._call(
            self._client.v1.billing_portal.sessions.create,
            {"customer": customer, "return_url": return_url},
            {"idempotency_key": idempotency_key},
        )
        return session["url"]

    def create_customer(
        self, name: str, email: str | None, metadata: dict, idempotency_key: str
    ) -> str:
        params = {"name": name, "metadata": metadata, **({"email": email} if email else {})}
        return self._call(
            self._client.v1.customers.create, params, {"idempotency_key": idempotency_key}
        )["id"]

    def create_invoice(
        self,
        customer: str,
        currency: str,
        description: str,
        metadata: dict,
        idempotency_key: str,
        days_until_due: int = 30,
    ) -> dict:
        """A draft invoice that Stripe emails to the customer once it is sent."""
        params = {
            "customer": customer,
            "currency": stripe_currency(currency),
            "collection_method": "send_invoice",
            "days_until_due": days_until_due,
            "description": description,
            "metadata": metadata,
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
        }
        return self._call(
            self._client.v1.invoices.create, params, {"idempotency_key": idempotency_key}
        )

    def add_invoice_item(
        self, invoice: dict, amount: Decimal, description: str, metadata: dict, idempotency_key: str
    ) -> dict:
        params = {
            "customer": invoice["customer"],
            "invoice": invoice["id"],
            "amount": to_minor(amount, invoice["currency"]),
            "currency": stripe_currency(invoice["currency"]),
            "description": description,
            "metadata": metadata,
        }
        return self._call(
            self._client.v1.invoice_items.create, params, {"idempotency_key": idempotency_key}
        )

    def finalize_and_send_invoice(self, invoice_id: str, idempotency_key: str) -> dict:
        """Finalize (the invoice gets its number and hosted page), then email it."""
        self._call(
            self._client.v1.invoices.finalize_invoice,
            invoice_id,
            None,
            {"idempotency_key": f"{idempotency_key}:finalize"},
        )
        return self._call(
            self._client.v1.invoices.send_invoice,
            invoice_id,
            None,
            {"idempotency_key": f"{idempotency_key}:send"},
        )

    def create_refund(
        self,
        payment_intent: str,
        amount: Decimal,
        currency: str,
        metadata: dict,
        idempotency_key: str,
    ) -> dict:
        params = {
            "payment_intent": payment_intent,
            "amount": to_minor(amount, currency),
            "reason": "requested_by_customer",
            "metadata": metadata,
        }
        return self._call(
            self._client.v1.refunds.create, params, {"idempotency_key": idempotency_key}
        )

    def payment_intent_metadata(self, payment_intent: str) -> dict:
        """The metadata we put on a PaymentIntent, for events that arrive before the session."""
        return (
            self._call(self._client.v1.payment_intents.retrieve, payment_intent).get("metadata")
            or {}
        )

    def invoice_payment_intent(self, invoice_id: str) -> str | None:
        """The PaymentIntent that paid an invoice (invoices no longer carry it themselves)."""
        listing = self._call(
            self._client.v1.invoice_payments.list, {"invoice": invoice_id, "limit": 3}
        )
        for item in listing.get("data", []):
            payment = item.get("payment") or {}
            if item.get("status") == "paid" and payment.get("payment_intent"):
                return payment["payment_intent"]
        return None


def _checkout_params(request: CheckoutRequest) -> dict:
    price = {
        "currency": stripe_currency(request.currency),
        "unit_amount": to_minor(request.amount, request.currency),
        "product_data": {"name": request.product_name},
    }
    if request.interval:
        price["recurring"] = {"interval": request.interval}
    params = {
        "mode": request.mode,
        "line_items": [{"price_data": price, "quantity": 1}],
        "metadata": request.metadata,
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "expires_at": request.expires_at,
        "client_reference_id": request.reference,
        **request.extra,
    }
    if request.customer:
        params["customer"] = request.customer
    elif request.customer_email:
        params["customer_email"] = request.customer_email
    # The same metadata on the PaymentIntent or subscription lets later events find our row.
    carrier = "subscription_data" if request.mode == "subscription" else "payment_intent_data"
    params[carrier] = {"metadata": request.metadata}
    return {key: value for key, value in params.items() if value is not None}


def get_gateway() -> StripeGateway | None:
    """The app's gateway, built on first use from config (never at start-up); None if unset."""
    config = current_app.config
    cache_key = tuple(
        config.get(name)
        for name in (
            "STRIPE_SECRET_KEY",
            "STRIPE_API_BASE",
            "STRIPE_MAX_NETWORK_RETRIES",
            "STRIPE_TIMEOUT_SECONDS",
        )
    )
    cached = current_app.extensions.get("stripe_gateway")
    if cached is None or cached[0] != cache_key:
        cached = (cache_key, StripeGateway.from_config(config))
        current_app.extensions["stripe_gateway"] = cached
    return cached[1]


def is_configured() -> bool:
    """True when a Stripe secret key is set, so payments can be taken."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))
