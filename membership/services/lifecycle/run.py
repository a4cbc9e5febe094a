"""The periodic job: every lifecycle kind, each safe to run again (nothing is sent twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from membership.config import Config
from membership.payments.gateway import StripeGateway
from membership.payments.objects import CardExpiry
from membership.services.errors import payment_provider_calls
from membership.services.lifecycle.dunning import send_dunning
from membership.services.lifecycle.jobs import (
    CardExpiryLookup,
    send_card_expiring,
    send_upgrade_asks,
    send_welcomes,
    send_win_backs,
    send_years_in_review,
)


def run(
    session: Session, now: datetime, *, config: Config, card_expiry: CardExpiryLookup
) -> dict[str, int]:
    """Queue every lifecycle email due at `now`; how many of each group were queued. Flushes:
    the caller commits once (the emails are queued in the outbox in the same transaction)."""
    summary = {
        "welcome": send_welcomes(session, now, config),
        "upgrade_ask": send_upgrade_asks(session, now, config),
        "win_back": send_win_backs(session, now, config),
        "dunning": send_dunning(session, now, config),
        "card_expiring": send_card_expiring(session, now, config, card_expiry),
        "year_in_review": send_years_in_review(session, now, config),
    }
    session.flush()
    return summary


def card_expiry_from(gateway: StripeGateway) -> CardExpiryLookup:
    """The card-expiring job's lookup: Stripe's answer, its failures as `PaymentUnavailable`."""

    def lookup(subscription_id: str) -> CardExpiry:
        with payment_provider_calls():
            return gateway.card_expiry(subscription_id)

    return lookup
