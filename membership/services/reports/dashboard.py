"""The staff dashboard: this month so far against last month, MRR now and over a year, and what
needs attention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from membership.dates import add_months, first_of_month
from membership.models import Donation, Subscription, SubscriptionStatus
from membership.payments.disputes import CLOSED_DISPUTE_STATUSES
from membership.services.reports.money import (
    GiftStats,
    MoneyRow,
    gift_stats,
    money_by_bucket,
    money_total,
)
from membership.services.reports.periods import Bucket, local_midnight
from membership.services.reports.recurring import MovementRow, movements, mrr_at

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Dashboard:
    month_label: str
    previous_label: str
    this_month: MoneyRow
    previous_month: MoneyRow
    previous_to_date: MoneyRow
    mrr: int
    active_recurring: int
    movement: MovementRow
    one_off: GiftStats
    failing_subscriptions: int
    failing_mrr: int
    open_disputes: int
    open_dispute_cents: int


def dashboard(session: Session, zone: ZoneInfo, now: datetime) -> Dashboard:
    """This month so far against last month (whole, and to the same day), MRR now, this month's
    recurring movements, one-off gifts, and what needs attention."""
    today = now.astimezone(zone).date()
    this_first = first_of_month(today)
    previous_first = first_of_month(today, -1)
    this_start = local_midnight(this_first, zone)
    previous_start = local_midnight(previous_first, zone)
    # "To the same day": as far into last month as we are into this one (clipped to its end).
    # Three adjacent periods, each row read once: last month up to that point, the rest of last
    # month, this month so far.
    elapsed = now - this_start
    previous_cut = min(previous_start + elapsed, this_start)
    early, late, this_month = money_by_bucket(
        session,
        [
            Bucket(0, previous_first, today, previous_start, previous_cut),
            Bucket(1, previous_first, this_first - timedelta(days=1), previous_cut, this_start),
            Bucket(2, this_first, today, this_start, now),
        ],
        zone,
    )
    previous_to_date = early
    previous_month = money_total([early, late], label=previous_first.strftime("%B %Y"))
    this_month.label = this_first.strftime("%B %Y")
    (movement,) = movements(session, [this_start, now], [this_first.strftime("%B %Y")], zone)
    mrr, active = movement.mrr_end, movement.active_end
    one_off = gift_stats(session, this_start, now, zone)["one_off"]
    failing = session.execute(
        select(func.count(), func.coalesce(func.sum(Subscription.amount_cents), 0)).where(
            Subscription.status.in_([SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID])
        )
    ).one()
    disputes = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(Donation.amount_cents + Donation.fee_cents - Donation.refunded_cents), 0
            ),
        ).where(
            # Every dispute has its opening date; a range (not IS NOT NULL) lets SQLite use the
            # index on it instead of reading the whole table.
            Donation.disputed_at >= EPOCH,
            or_(
                Donation.dispute_status.is_(None),
                Donation.dispute_status.not_in(CLOSED_DISPUTE_STATUSES),
            ),
        )
    ).one()
    return Dashboard(
        month_label=this_first.strftime("%B %Y"),
        previous_label=previous_first.strftime("%B %Y"),
        this_month=this_month,
        previous_month=previous_month,
        previous_to_date=previous_to_date,
        mrr=mrr,
        active_recurring=active,
        movement=movement,
        one_off=one_off,
        failing_subscriptions=int(failing[0]),
        failing_mrr=int(failing[1]),
        open_disputes=int(disputes[0]),
        open_dispute_cents=int(disputes[1]),
    )


@dataclass(frozen=True)
class TrendPoint:
    """MRR and active recurring supporters at the end of one month (the current one: now)."""

    label: str
    mrr: int
    active: int


def mrr_trend(
    session: Session, zone: ZoneInfo, now: datetime, months: int = 12
) -> list[TrendPoint]:
    """The last `months` local months, this one included, each measured at its end."""
    first = first_of_month(now.astimezone(zone).date(), 1 - months)
    month_firsts = [add_months(first, k) for k in range(months)]
    instants = [*(local_midnight(day, zone) for day in month_firsts[1:]), now]
    levels = mrr_at(session, instants, zone)
    return [
        TrendPoint(day.strftime("%b %Y"), mrr, active)
        for day, (mrr, active) in zip(month_firsts, levels, strict=True)
    ]
