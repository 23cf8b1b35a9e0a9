"""Stripe behind one gateway class, and the webhook that turns Stripe's events into our state."""
