"""Payments: the only package that talks to Stripe (the gateway) and reads its JSON (typed objects)."""
