"""The dunning sequence: a failed renewal is recorded by the webhook (which queues day 0 at once);
the daily job sends day 3 and day 7 while it is unpaid, and the final notice when Stripe cancels
the gift after its retries. Paying the invoice stops it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.formatting import format_money
from membership.frequency import FREQUENCY_OF
from membership.models import FailedRenewal, Subscription, SubscriptionStatus, Supporter
from membership.services.lifecycle.sending import queue_lifecycle
from membership.services.sql import insert_or_ignore

STEPS = (0, 3, 7)
UNPAID = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)
# A failed renewal older than this is no longer followed (Stripe's retries end well before).
FOLLOWED_FOR = timedelta(days=45)


def record_failed_renewal(
    session: Session,
    subscription: Subscription,
    *,
    invoice_id: str,
    fix_url: str,
    config: Config,
    now: datetime,
) -> FailedRenewal | None:
    """The first failure of a renewal invoice opens its sequence and queues day 0; Stripe's later
    retries of the same invoice change nothing (the sequence has its own days)."""
    renewal = insert_or_ignore(
        session,
        FailedRenewal,
        {
            "stripe_invoice_id": invoice_id,
            "subscription_id": subscription.id,
            "amount_cents": subscription.amount_cents,
            "fix_url": fix_url,
            "failed_at": now,
        },
        ["stripe_invoice_id"],
    )
    if renewal is not None:
        _queue_step(session, renewal, subscription, "dunning_day_0", config=config, now=now)
    return renewal


def mark_renewal_paid(session: Session, invoice_id: str, *, now: datetime) -> None:
    """The invoice got paid (an `invoice.paid` event): the sequence stops."""
    session.execute(
        update(FailedRenewal)
        .where(FailedRenewal.stripe_invoice_id == invoice_id, FailedRenewal.paid_at.is_(None))
        .values(paid_at=now)
        .execution_options(synchronize_session=False)
    )


def due_step(renewal: FailedRenewal, now: datetime) -> str:
    """The latest step due: a run that missed day 3 sends day 7 on time rather than day 3 late."""
    days = max(step for step in STEPS if renewal.failed_at + timedelta(days=step) <= now)
    return f"dunning_day_{days}"


def send_dunning(session: Session, now: datetime, config: Config) -> int:
    rows = session.execute(
        select(FailedRenewal, Subscription)
        .join(Subscription, Subscription.id == FailedRenewal.subscription_id)
        .where(
            FailedRenewal.paid_at.is_(None),
            FailedRenewal.failed_at > now - FOLLOWED_FOR,
            FailedRenewal.failed_at <= now,
        )
        .order_by(FailedRenewal.id)
    )
    queued = 0
    for renewal, subscription in rows:
        if subscription.status is SubscriptionStatus.CANCELED:
            # Stripe gave up after its retries (or the supporter cancelled while it was unpaid).
            # No comparison of times: Stripe's are whole seconds, and a cancellation in the same
            # second as the failure would read as earlier than it.
            queued += _queue_step(
                session, renewal, subscription, "dunning_final", config=config, now=now
            )
        elif subscription.status in UNPAID:
            step = due_step(renewal, now)
            queued += _queue_step(session, renewal, subscription, step, config=config, now=now)
    return queued


def _queue_step(
    session: Session,
    renewal: FailedRenewal,
    subscription: Subscription,
    kind: str,
    *,
    config: Config,
    now: datetime,
) -> bool:
    supporter = (
        session.get(Supporter, subscription.supporter_id) if subscription.supporter_id else None
    )
    if supporter is None:
        return False
    base = config.base_url.rstrip("/")
    link = (
        {
            "restart_link": f"{base}/support?amount={subscription.gift_cents}"
            f"&frequency={FREQUENCY_OF[subscription.interval].value}&source=dunning-final"
        }
        if kind == "dunning_final"
        else {"fix_link": renewal.fix_url}
    )
    message = queue_lifecycle(
        session,
        kind,
        supporter,
        renewal.stripe_invoice_id,
        values={"amount": format_money(renewal.amount_cents, subscription.currency)},
        links=link,
        config=config,
        now=now,
    )
    return message is not None


def open_renewals(session: Session) -> int:
    """Failed renewals still unpaid, for the staff page."""
    return (
        session.scalar(
            select(func.count()).select_from(FailedRenewal).where(FailedRenewal.paid_at.is_(None))
        )
        or 0
    )
