"""Monthly recurring revenue bookkeeping: keeps each subscription's MRR spans in step with its state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.models import BillingInterval, MrrSpan, Subscription, SubscriptionStatus
from membership.services.reports import summary

# Past due still counts: Stripe is retrying the card and the supporter has not left. Paused,
# unpaid, cancelled and never-paid subscriptions bring in nothing.
CONTRIBUTING = frozenset(
    {SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.TRIALING}
)


def monthly_cents(amount_cents: int, interval: BillingInterval) -> int:
    """An amount per interval as an amount per month: annual / 12, rounded half up to the cent.

    The reports use the same rule in SQL: (amount + 6) / 12 in integer arithmetic.
    """
    if interval is BillingInterval.YEAR:
        return (amount_cents + 6) // 12
    return amount_cents


def contribution(subscription: Subscription, at: datetime) -> int:
    """What this subscription adds to MRR at `at`, judged from its current state."""
    if subscription.status not in CONTRIBUTING:
        return 0
    if subscription.ended_at is not None and subscription.ended_at <= at:
        return 0
    if subscription.paused_until is not None and subscription.paused_until > at:
        return 0
    return monthly_cents(subscription.amount_cents, subscription.interval)


def record_mrr(session: Session, subscription: Subscription, at: datetime) -> None:
    """Close the open span and/or open a new one when the subscription's contribution changed.

    `at` is when the change happened as far as we know (the Stripe event's time); an ending is
    dated by the subscription's own `ended_at`, and the first span by its start.
    """
    open_span = session.scalar(
        select(MrrSpan)
        .where(MrrSpan.subscription_id == subscription.id, MrrSpan.ends_at.is_(None))
        .with_for_update()
    )
    value = contribution(subscription, at)
    if open_span is not None and open_span.mrr_cents == value:
        return
    if open_span is None and value == 0:
        return
    if open_span is not None:
        ended = subscription.ended_at if value == 0 and subscription.ended_at else at
        open_span.ends_at = max(ended, open_span.starts_at)
        starts = max(at, open_span.starts_at)
        summary.mrr_changed(session, ended=[(open_span.ends_at, open_span.mrr_cents)])
    else:
        had_span = session.scalar(
            select(MrrSpan.id).where(MrrSpan.subscription_id == subscription.id).limit(1)
        )
        starts = at if had_span is not None else min(subscription.started_at, at)
    if value > 0:
        session.add(
            MrrSpan(
                subscription_id=subscription.id, mrr_cents=value, starts_at=starts, ends_at=None
            )
        )
        summary.mrr_changed(session, started=[(starts, value)])
    session.flush()
