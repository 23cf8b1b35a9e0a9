"""Payments: every use-case that reads or writes our payment rows (Checkout, memberships, success
fees, refunds, the fee schedule) and the Stripe webhook events that settle them. The one class that
talks to Stripe is marketplace.payments.gateway."""
