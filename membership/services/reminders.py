"""Renewal reminders: one email before each annual gift renews, queued once per renewal."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.reminders import renewal_reminder_email
from membership.models import BillingInterval, Subscription, SubscriptionStatus, Supporter
from membership.services.outbox import queue_email


def queue_renewal_reminders(session: Session, *, config: Config, now: datetime) -> int:
    """Queue a reminder for every annual gift renewing within `renewal_reminder_days`.

    Safe to run as often as you like: the dedupe key names the subscription and the renewal
    date, so each renewal gets one reminder however many times the job runs.
    """
    horizon = now + timedelta(days=config.renewal_reminder_days)
    rows = session.execute(
        select(Subscription, Supporter)
        .join(Supporter, Supporter.id == Subscription.supporter_id)
        .where(
            Subscription.interval == BillingInterval.YEAR,
            Subscription.status.in_([SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING]),
            Subscription.cancel_at_period_end.is_(False),
            Subscription.current_period_end > now,
            Subscription.current_period_end <= horizon,
            # A pause lasting past the renewal means nothing will be charged then.
            or_(
                Subscription.paused_until.is_(None),
                Subscription.paused_until <= Subscription.current_period_end,
            ),
            Supporter.active.is_(True),
            Supporter.renewal_reminders.is_(True),
            Supporter.email.is_not(None),
        )
        .order_by(Subscription.id)
    )
    queued = 0
    for subscription, supporter in rows:
        renews = subscription.current_period_end
        if renews is None or supporter.email is None:  # pragma: no cover - filtered above
            continue
        message = queue_email(
            session,
            renewal_reminder_email(config, subscription, to=supporter.email, renews=renews),
            dedupe_key=f"renewal_reminder:{subscription.id}:{int(renews.timestamp())}",
            now=now,
        )
        queued += message is not None
    session.flush()
    return queued
