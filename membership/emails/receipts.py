"""Money emails to supporters: the receipt for each payment, and a failed renewal."""

from __future__ import annotations

from datetime import datetime

from membership.config import Config
from membership.emails.render import ComposedEmail, compose_email
from membership.formatting import format_date, format_money
from membership.frequency import FREQUENCY_OF, frequency_words
from membership.models import Donation, Frequency, Subscription


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


def payment_failed_email(
    config: Config,
    subscription: Subscription,
    *,
    to: str,
    fix_url: str,
    next_attempt: datetime | None,
) -> ComposedEmail:
    """The bank declined a renewal: a link to update the card or pay the open invoice."""
    return compose_email(
        config,
        "payment_failed",
        kind="payment_failed",
        to=to,
        subject=f"Your support for {config.publication_name}: the payment didn't go through",
        amount=format_money(
            subscription.amount_cents,
            subscription.currency,
            locale=config.locale,
            always_cents=True,
        ),
        per=frequency_words(FREQUENCY_OF[subscription.interval]).per,
        fix_url=fix_url,
        next_attempt=format_date(next_attempt, config.zone) if next_attempt else None,
    )


def account_url(config: Config) -> str:
    """Where a supporter sees their gifts and changes them: linked from every money email."""
    return f"{config.base_url.rstrip('/')}/account"
