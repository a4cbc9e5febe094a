"""Offline stand-in for the subset of the Stripe API the membership service uses.

Simulated only: no real money moves, nothing talks to Stripe.
"""

from stripe_standin.app import StandinConfig, create_standin_app
from stripe_standin.server import StandinServer

__all__ = ["StandinConfig", "StandinServer", "create_standin_app"]
