"""Reminders to supporters: an annual gift renews soon."""

from __future__ import annotations

from datetime import datetime

from membership.config import Config
from membership.emails.receipts import account_url
from membership.emails.render import ComposedEmail, compose_email
from membership.formatting import format_date, format_money
from membership.models import Subscription


def renewal_reminder_email(
    config: Config, subscription: Subscription, *, to: str, renews: datetime
) -> ComposedEmail:
    date = format_date(renews, config.zone)
    return compose_email(
        config,
        "renewal_reminder",
        kind="renewal_reminder",
        to=to,
        subject=f"Your annual gift to {config.publication_name} renews on {date}",
        amount=format_money(subscription.amount_cents, subscription.currency, locale=config.locale),
        date=date,
        account_url=account_url(config),
    )
