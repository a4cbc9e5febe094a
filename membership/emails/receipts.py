"""Money emails to supporters: the receipt for each payment, a refund on its way back, and a
renewal that waits for the supporter to confirm it with their bank (a failed renewal is the
dunning sequence's, in `emails.lifecycle`)."""

from __future__ import annotations

import functools

from membership.config import Config
from membership.emails.deferred import deferred_email
from membership.emails.render import ComposedEmail, compose_email
from membership.formatting import format_date, format_money
from membership.frequency import FREQUENCY_OF, frequency_words
from membership.models import Donation, DonationRefund, Frequency, Subscription


def receipt_email(
    config: Config, donation: Donation, *, to: str, frequency: Frequency
) -> ComposedEmail:
    """The receipt, rendered by the worker when it is sent (`emails.deferred`): the webhook that
    records the payment only formats its figures."""
    money = functools.partial(
        format_money, currency=donation.currency, locale=config.locale, always_cents=True
    )
    return deferred_email(
        "receipt",
        kind="receipt",
        to=to,
        subject=f"Your receipt from {config.publication_name} ({donation.receipt_number})",
        context={
            # What emails/receipt.* read of the config and the donation, as plain values.
            "publication_name": config.publication_name,
            "config": {"publication_address": config.publication_address},
            "donation": {
                "receipt_number": donation.receipt_number,
                "fee_cents": donation.fee_cents,
            },
            "gift": money(donation.amount_cents),
            "fee": money(donation.fee_cents),
            "total": money(donation.total_cents),
            "date": format_date(donation.paid_at, config.zone),
            "frequency": frequency_words(frequency).gift,
            "account_url": account_url(config),
        },
    )


def refund_confirmation_email(
    config: Config, donation: Donation, refund: DonationRefund, *, to: str
) -> ComposedEmail:
    return compose_email(
        config,
        "refund_confirmed",
        kind="refund",
        to=to,
        subject=f"Your refund from {config.publication_name} ({donation.receipt_number})",
        donation=donation,
        amount=format_money(refund.amount_cents, donation.currency, always_cents=True),
        date=format_date(donation.paid_at, config.zone),
        account_url=account_url(config),
    )


def payment_action_required_email(
    config: Config, subscription: Subscription, *, to: str, confirm_url: str
) -> ComposedEmail:
    """The bank asks the supporter to confirm a renewal (3-D Secure) on Stripe's invoice page."""
    return compose_email(
        config,
        "payment_action_required",
        kind="payment_action_required",
        to=to,
        subject=f"Your support for {config.publication_name}: your bank asks you to confirm",
        amount=format_money(subscription.amount_cents, subscription.currency, always_cents=True),
        per=frequency_words(FREQUENCY_OF[subscription.interval]).per,
        confirm_url=confirm_url,
    )


def account_url(config: Config) -> str:
    """Where a supporter sees their gifts and changes them: linked from every money email."""
    return f"{config.base_url.rstrip('/')}/account"
