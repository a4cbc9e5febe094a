"""Payments: the Stripe gateway and the webhook event handlers."""
