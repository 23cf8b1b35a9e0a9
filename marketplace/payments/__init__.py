"""The Stripe gateway: the one class that talks to Stripe (or a stand-in), and money in minor units.

It knows no database; marketplace.services.payments holds the use-cases and the webhook handlers.
"""
