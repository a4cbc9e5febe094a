"""Money emails to supporters: the receipt for each payment (a failed renewal is the dunning
sequence's, in `emails.lifecycle`)."""

from __future__ import annotations

from membership.config import Config
from membership.emails.render import ComposedEmail, compose_email
from membership.formatting import format_date, format_money
from membership.frequency import frequency_words
from membership.models import Donation, Frequency


def receipt_email(
    config: Config, donation: Donation, *, to: str, frequency: Frequency
) -> ComposedEmail:
    return compose_email(
        config,
        "receipt",
        kind="receipt",
        to=to,
        subject=f"Your receipt from {config.publication_name} ({donation.receipt_number})",
        donation=donation,
        gift=format_money(
            donation.amount_cents, donation.currency, locale=config.locale, always_cents=True
        ),
        fee=format_money(
            donation.fee_cents, donation.currency, locale=config.locale, always_cents=True
        ),
        total=format_money(
            donation.total_cents, donation.currency, locale=config.locale, always_cents=True
        ),
        date=format_date(donation.paid_at, config.zone),
        frequency=frequency_words(frequency).gift,
        account_url=account_url(config),
    )


def account_url(config: Config) -> str:
    """Where a supporter sees their gifts and changes them: linked from every money email."""
    return f"{config.base_url.rstrip('/')}/account"
