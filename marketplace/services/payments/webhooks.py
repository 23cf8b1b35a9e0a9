"""Stripe webhooks: verify the signature on the raw body, then apply each event exactly once."""

import logging

import stripe
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.models import StripeEvent
from marketplace.services.payments.handlers import HANDLERS

log = logging.getLogger(__name__)


class BadEvent(Exception):
    """The request is not a genuine, well-formed Stripe event; answer 400."""


def verify(payload: bytes, signature: str | None, secret: str | None) -> dict:
    """The event as plain data, when the signature over these exact bytes is Stripe's."""
    if not secret:
        raise BadEvent("the webhook secret is not configured")
    if not signature:
        raise BadEvent("no Stripe-Signature header")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret).to_dict()
    except stripe.SignatureVerificationError as error:
        raise BadEvent(f"bad signature: {error.user_message}") from error
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise BadEvent("the body is not a Stripe event") from error
    data = event.get("data")
    if (
        not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
    ):
        raise BadEvent("the body is not a Stripe event")
    return event


def process(event: dict) -> str:
    """Store the event id and apply its effect in one transaction; a repeat changes nothing."""
    if db.session.get(StripeEvent, event["id"]) is not None:
        return "duplicate"
    stored = StripeEvent(
        id=event["id"], type=event["type"], stripe_created=int(event.get("created") or 0)
    )
    db.session.add(stored)
    try:
        # Two deliveries at once: the second insert waits for the first, then fails here.
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    try:
        handler = HANDLERS.get(event["type"])
        stored.outcome = handler(event["data"]["object"], event) if handler else "ignored"
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info("stripe event %s %s: %s", event["id"], event["type"], stored.outcome)
    return stored.outcome
