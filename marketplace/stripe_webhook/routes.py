"""POST /stripe/webhook: the only way a payment's state changes."""

from flask import current_app, jsonify, request

from marketplace.extensions import csrf
from marketplace.services.payments import webhooks
from marketplace.stripe_webhook import bp


@bp.route("/stripe/webhook", methods=["POST"])
@csrf.exempt  # Stripe cannot send our CSRF token; the signature check below stands in for it.
def receive():
    """Verify the signature on the raw body, then apply the event once."""
    try:
        event = webhooks.verify(
            request.get_data(),
            request.headers.get("Stripe-Signature"),
            current_app.config.get("STRIPE_WEBHOOK_SECRET"),
        )
    except webhooks.BadEvent as error:
        current_app.logger.warning("Refused a Stripe webhook: %s", error)
        return jsonify(error=str(error)), 400
    outcome = webhooks.process(event)
    return jsonify(received=True, outcome=outcome)
