"""A recurring gift's change that starts with its next payment.

A new interval (or any change while a schedule is attached) goes to Stripe as the next phase of a
subscription schedule, so our row keeps today's amount until the renewal. The supporter still
needs to see what they asked for: the change is noted on the row, shown on their page, and
forgotten once a Stripe snapshot shows it applied (or the gift ended).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from membership.frequency import FREQUENCY_OF, FrequencyWords, frequency_words
from membership.models import BillingInterval, Subscription, SubscriptionStatus


@dataclass(frozen=True)
class ScheduledChange:
    starts: datetime
    amount_cents: int  # each payment in all, the covered fee included
    fee_cents: int
    words: FrequencyWords

    @property
    def gift_cents(self) -> int:
        return self.amount_cents - self.fee_cents


def scheduled_change(subscription: Subscription) -> ScheduledChange | None:
    """What the supporter's page says is coming, if anything."""
    s = subscription
    if (
        s.next_change_at is None
        or s.next_amount_cents is None
        or s.next_interval is None
        or s.cancel_at_period_end
        or s.status is SubscriptionStatus.CANCELED
    ):
        return None
    interval = BillingInterval(s.next_interval)
    return ScheduledChange(
        starts=s.next_change_at,
        amount_cents=s.next_amount_cents,
        fee_cents=s.next_fee_cents or 0,
        words=frequency_words(FREQUENCY_OF[interval]),
    )


def note(
    subscription: Subscription,
    *,
    amount_cents: int,
    fee_cents: int,
    interval: BillingInterval,
    starts: datetime,
) -> None:
    """Stripe accepted a change from the next payment on; asking for today's gift again (to
    undo it) leaves nothing to show."""
    if applied(subscription, amount_cents, fee_cents, interval.value):
        forget(subscription)
        return
    subscription.next_amount_cents = amount_cents
    subscription.next_fee_cents = fee_cents
    subscription.next_interval = interval.value
    subscription.next_change_at = starts


def pending(subscription: Subscription) -> bool:
    return subscription.next_change_at is not None


def forget_if_applied(subscription: Subscription) -> None:
    """After a Stripe snapshot: the change has happened, or can no longer happen."""
    if subscription.next_change_at is None:
        return
    if subscription.status is SubscriptionStatus.CANCELED or applied(
        subscription,
        subscription.next_amount_cents,
        subscription.next_fee_cents,
        subscription.next_interval,
    ):
        forget(subscription)


def applied(
    subscription: Subscription,
    amount_cents: int | None,
    fee_cents: int | None,
    interval: str | None,
) -> bool:
    return (subscription.amount_cents, subscription.fee_cents, subscription.interval.value) == (
        amount_cents,
        fee_cents or 0,
        interval,
    )


def forget(subscription: Subscription) -> None:
    subscription.next_amount_cents = None
    subscription.next_fee_cents = None
    subscription.next_interval = None
    subscription.next_change_at = None
