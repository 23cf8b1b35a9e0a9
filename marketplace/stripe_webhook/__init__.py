"""POST /stripe/webhook: Stripe's signed events, the only way a payment's state changes."""

from flask import Blueprint

bp = Blueprint("stripe_webhook", __name__)

from marketplace.stripe_webhook import routes  # noqa: E402,F401  (registers the view on bp)
