"""Funding reports computed in SQL: money by period, MRR and its movements, churn, cohorts, attribution.

Every period boundary is a local midnight in the publication's time zone, converted to UTC here in
Python; the SQL only ever compares stored UTC timestamps with those boundaries, so SQLite and
PostgreSQL give the same numbers. Definitions (README.md, "Staff reports") in short:

- gross: amount_cents + fee_cents of donations paid in the period (failed payments excluded);
  fees covered: their fee_cents; gifts: their amount_cents.
- refunds: `donation_refund` rows dated in the period (when Stripe reported the refund).
- disputes: total - refunded of donations whose dispute opened in the period, unless it was won.
- net: gross - refunds - disputes.
- MRR: sum of `mrr_span` rows open at the instant (annual / 12, half up, fee included).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    and_,
    case,
    func,
    not_,
    or_,
    select,
    true,
    union,
    values,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import column
from sqlalchemy.sql.selectable import CTE

from membership.dates import first_of_month
from membership.models import (
    Article,
    BannerStat,
    BannerVariant,
    Donation,
    DonationIntent,
    DonationKind,
    DonationRefund,
    DonationStatus,
    IntentStatus,
    MrrSpan,
    Subscription,
    SubscriptionStatus,
    UTCDateTime,
)

GROUPINGS = ("day", "week", "month")
# Longest range per grouping, so a report stays a report (and SQLite's VALUES stays small).
MAX_BUCKETS = 400
DONATION = Donation.__table__
SPAN = MrrSpan.__table__
REFUND = DonationRefund.__table__
COUNTED = DONATION.c.status != DonationStatus.FAILED.value
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ReportError(ValueError):
    """The report cannot be made as asked; the message is for the staff member."""


# Time: local periods as UTC instants


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Bucket:
    """One row of a report: local days first..last (inclusive), as the UTC range [starts, ends)."""

    index: int
    first_day: date
    last_day: date
    starts: datetime
    ends: datetime

    @property
    def short_label(self) -> str:
        """For chart axes, where a full range does not fit: the period's first day, or its month."""
        month_end = (self.first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
        if self.first_day.day == 1 and self.last_day == month_end - timedelta(days=1):
            return f"{self.first_day:%b %Y}"
        return f"{self.first_day:%d %b}"

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


def make_buckets(start: date, end: date, grouping: str, zone: ZoneInfo) -> list[Bucket]:
    """Calendar buckets covering the local dates start..end, clipped to that range. Weeks start
    on Monday (ISO 8601)."""
    if grouping not in GROUPINGS:
        raise ReportError(f"Group by one of {', '.join(GROUPINGS)}.")
    if end < start:
        raise ReportError("The end date is before the start date.")
    buckets: list[Bucket] = []
    first = start
    while first <= end:
        if grouping == "day":
            next_first = first + timedelta(days=1)
        elif grouping == "week":
            next_first = first + timedelta(days=7 - first.weekday())
        else:
            next_first = first_of_month(first, 1)
        last = min(next_first - timedelta(days=1), end)
        buckets.append(
            Bucket(
                index=len(buckets),
                first_day=first,
                last_day=last,
                starts=local_midnight(first, zone),
                ends=local_midnight(last + timedelta(days=1), zone),
            )
        )
        if len(buckets) > MAX_BUCKETS:
            raise ReportError(
                f"That is more than {MAX_BUCKETS} rows: choose a shorter range or a longer grouping."
            )
        first = next_first
    return buckets


def _bucket_table(buckets: Sequence[Bucket], name: str = "buckets") -> CTE:
    return (
        values(
            column("idx", Integer),
            column("starts", UTCDateTime()),
            column("ends", UTCDateTime()),
            name=name,
        )
        .data([(b.index, b.starts, b.ends) for b in buckets])
        .cte(name)
    )


def _instant_table(instants: Sequence[datetime], name: str = "snapshots") -> CTE:
    return (
        values(column("idx", Integer), column("at", UTCDateTime()), name=name)
        .data(list(enumerate(instants)))
        .cte(name)
    )


# Small arithmetic on integers, shared by pages, CSV and tests


def divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (both non-negative); 0 when there is nothing."""
    if denominator <= 0:
        return 0
    return (2 * numerator + denominator) // (2 * denominator)


def percent(numerator: int, denominator: int) -> float | None:
    """A rate in percent to one decimal place, or None when the base is zero."""
    if denominator <= 0:
        return None
    return divide_half_up(numerator * 1000, denominator) / 10


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default), in percent; None without data.

    Unlike the textbook p +- z*sqrt(p(1-p)/n) it behaves at 0 and with few trials, which is
    exactly where a small newsroom's banner tests live.
    """
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (round(max(0.0, centre - margin) * 100, 2), round(min(1.0, centre + margin) * 100, 2))


# Money


@dataclass
class MoneyRow:
    label: str
    donations: int = 0
    gross: int = 0
    fees: int = 0
    gifts: int = 0
    refunds: int = 0
    disputes: int = 0
    one_off_count: int = 0
    one_off_gross: int = 0
    recurring_count: int = 0
    recurring_gross: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.refunds - self.disputes

    @property
    def average_gift(self) -> int:
        return divide_half_up(self.gifts, self.donations)


MONEY_COLUMNS = (
    ("label", "Period"),
    ("donations", "Donations"),
    ("gross", "Gross"),
    ("fees", "Fees covered"),
    ("gifts", "Gifts"),
    ("refunds", "Refunds"),
    ("disputes", "Disputes"),
    ("net", "Net"),
    ("one_off_count", "One-off count"),
    ("one_off_gross", "One-off gross"),
    ("recurring_count", "Recurring count"),
    ("recurring_gross", "Recurring gross"),
    ("average_gift", "Average gift"),
)
MONEY_FIELDS = {
    "gross",
    "fees",
    "gifts",
    "refunds",
    "disputes",
    "net",
    "one_off_gross",
    "recurring_gross",
    "average_gift",
}


def money_by_bucket(session: Session, buckets: Sequence[Bucket]) -> list[MoneyRow]:
    """Gross, fees, refunds, disputes and net per bucket, one-off and recurring apart."""
    rows = [MoneyRow(label=b.label) for b in buckets]
    if not buckets:
        return rows
    b = _bucket_table(buckets)
    first, last = buckets[0].starts, buckets[-1].ends
    d = DONATION
    total = d.c.amount_cents + d.c.fee_cents
    one_off = d.c.kind == DonationKind.ONE_OFF.value
    aggregates = (
        # count(*), not count(id): every column read is in ix_donation_report (index-only scans).
        func.count(),
        func.coalesce(func.sum(total), 0),
        func.coalesce(func.sum(d.c.fee_cents), 0),
        func.coalesce(func.sum(d.c.amount_cents), 0),
        func.count(case((one_off, 1))),
        func.coalesce(func.sum(case((one_off, total), else_=0)), 0),
    )
    in_bucket = and_(d.c.paid_at >= b.c.starts, d.c.paid_at < b.c.ends)
    if session.get_bind().dialect.name == "postgresql":
        # One index range scan per bucket, aggregated there. A plain join makes PostgreSQL
        # compare every row of the range with every bucket (it cannot see into VALUES).
        per_bucket = select(*aggregates).where(COUNTED, in_bucket).lateral("per_bucket")
        paid = session.execute(
            select(b.c.idx, *per_bucket.c).select_from(b.join(per_bucket, true()))
        )
    else:
        # SQLite loops over the buckets and range-scans the covering index for each: the same.
        paid = session.execute(
            select(b.c.idx, *aggregates)
            .select_from(b.join(d, in_bucket))
            .where(COUNTED)
            .group_by(b.c.idx)
        )
    for idx, count, gross, fees, gifts, one_off_count, one_off_gross in paid:
        row = rows[idx]
        row.donations, row.gross, row.fees, row.gifts = (
            int(count),
            int(gross),
            int(fees),
            int(gifts),
        )
        row.one_off_count, row.one_off_gross = int(one_off_count), int(one_off_gross)
        row.recurring_count = row.donations - row.one_off_count
        row.recurring_gross = row.gross - row.one_off_gross
    refunds = session.execute(
        select(b.c.idx, func.sum(REFUND.c.amount_cents))
        .select_from(
            b.join(
                REFUND, and_(REFUND.c.refunded_at >= b.c.starts, REFUND.c.refunded_at < b.c.ends)
            )
        )
        .where(REFUND.c.refunded_at >= first, REFUND.c.refunded_at < last)
        .group_by(b.c.idx)
    )
    for idx, amount in refunds:
        rows[idx].refunds = int(amount or 0)
    disputes = session.execute(
        select(b.c.idx, func.sum(total - d.c.refunded_cents))
        .select_from(b.join(d, and_(d.c.disputed_at >= b.c.starts, d.c.disputed_at < b.c.ends)))
        .where(
            or_(d.c.dispute_status.is_(None), d.c.dispute_status != "won"),
            d.c.disputed_at >= first,
            d.c.disputed_at < last,
        )
        .group_by(b.c.idx)
    )
    for idx, amount in disputes:
        rows[idx].disputes = int(amount or 0)
    return rows


def money_total(rows: Sequence[MoneyRow], label: str = "Total") -> MoneyRow:
    total = MoneyRow(label=label)
    for name in (
        "donations",
        "gross",
        "fees",
        "gifts",
        "refunds",
        "disputes",
        "one_off_count",
        "one_off_gross",
        "recurring_count",
        "recurring_gross",
    ):
        setattr(total, name, sum(getattr(r, name) for r in rows))
    return total


@dataclass(frozen=True)
class GiftStats:
    count: int
    average: int
    median: int


def gift_stats(session: Session, starts: datetime, ends: datetime) -> dict[str, GiftStats]:
    """Average and median gift (amount_cents, the fee not included), overall and per kind.

    The median comes from a histogram of amounts computed by the database (people give a few
    dozen distinct amounts), so it is exact without sorting every row in Python.
    """
    d = DONATION
    histogram = session.execute(
        select(d.c.kind, d.c.amount_cents, func.count())
        .where(d.c.paid_at >= starts, d.c.paid_at < ends, COUNTED)
        .group_by(d.c.kind, d.c.amount_cents)
        .order_by(d.c.amount_cents)
    ).all()
    result: dict[str, GiftStats] = {}
    for name, kinds in (
        ("all", {DonationKind.ONE_OFF.value, DonationKind.RECURRING.value}),
        ("one_off", {DonationKind.ONE_OFF.value}),
        ("recurring", {DonationKind.RECURRING.value}),
    ):
        counts = [(int(amount), int(n)) for kind, amount, n in histogram if str(kind) in kinds]
        result[name] = _stats(counts)
    return result


def _stats(counts: Sequence[tuple[int, int]]) -> GiftStats:
    """Count, average and median (the mean of the two middle gifts when even, half up) of a
    histogram sorted by amount."""
    n = sum(c for _, c in counts)
    if n == 0:
        return GiftStats(0, 0, 0)
    total = sum(a * c for a, c in counts)

    def nth(k: int) -> int:  # the k-th smallest gift, 0-based
        seen = 0
        for amount, c in counts:
            seen += c
            if k < seen:
                return amount
        raise AssertionError("k out of range")  # pragma: no cover

    low, high = nth((n - 1) // 2), nth(n // 2)
    return GiftStats(n, divide_half_up(total, n), divide_half_up(low + high, 2))


# MRR, movements, churn, cohorts


@dataclass
class MovementRow:
    label: str
    mrr_start: int = 0
    mrr_end: int = 0
    active_start: int = 0
    active_end: int = 0
    new_count: int = 0
    new_mrr: int = 0
    expansion_count: int = 0
    expansion_mrr: int = 0
    contraction_count: int = 0
    contraction_mrr: int = 0
    churn_count: int = 0
    churn_mrr: int = 0
    reactivation_count: int = 0
    reactivation_mrr: int = 0

    @property
    def net_change(self) -> int:
        return self.mrr_end - self.mrr_start

    @property
    def churn_rate(self) -> float | None:
        """Supporters lost in the period, per hundred active at its start."""
        return percent(self.churn_count, self.active_start)

    @property
    def mrr_churn_rate(self) -> float | None:
        """MRR lost to cancellations and pauses, per hundred of MRR at the start."""
        return percent(self.churn_mrr, self.mrr_start)


MOVEMENT_COLUMNS = (
    ("label", "Period"),
    ("mrr_start", "MRR at start"),
    ("new_mrr", "New"),
    ("expansion_mrr", "Expansion"),
    ("contraction_mrr", "Contraction"),
    ("churn_mrr", "Churn"),
    ("reactivation_mrr", "Reactivation"),
    ("mrr_end", "MRR at end"),
    ("active_start", "Active at start"),
    ("new_count", "New supporters"),
    ("churn_count", "Churned"),
    ("reactivation_count", "Recovered"),
    ("active_end", "Active at end"),
    ("churn_rate", "Churn rate %"),
    ("mrr_churn_rate", "MRR churn rate %"),
)
MOVEMENT_MONEY_FIELDS = {
    "mrr_start",
    "mrr_end",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churn_mrr",
    "reactivation_mrr",
}


def _open_at(snapshots: CTE) -> Any:
    return and_(
        SPAN.c.starts_at <= snapshots.c.at,
        or_(SPAN.c.ends_at.is_(None), SPAN.c.ends_at > snapshots.c.at),
    )


def _periods_table(instants: Sequence[datetime], name: str = "periods") -> CTE:
    """Consecutive instants as periods (idx, starts, ends) = (i, T[i-1], T[i]) for i >= 1."""
    return (
        values(
            column("idx", Integer),
            column("starts", UTCDateTime()),
            column("ends", UTCDateTime()),
            name=name,
        )
        .data([(i, instants[i - 1], instants[i]) for i in range(1, len(instants))])
        .cte(name)
    )


def mrr_at(session: Session, instants: Sequence[datetime]) -> list[tuple[int, int]]:
    """(MRR in cents, active recurring supporters) at each of the increasing `instants`.

    The level at the first instant is one pass over the spans open then; later levels add the
    spans that start and subtract those that end in between, which reads only the spans that
    changed (a subscription has at most one open span at a time, so spans count supporters).
    """
    if not instants:
        return []
    first = instants[0]
    level = session.execute(
        select(func.coalesce(func.sum(SPAN.c.mrr_cents), 0), func.count()).where(
            SPAN.c.starts_at <= first, or_(SPAN.c.ends_at.is_(None), SPAN.c.ends_at > first)
        )
    ).one()
    mrr, active = int(level[0]), int(level[1])
    deltas = [[0, 0] for _ in instants]
    if len(instants) > 1:
        p = _periods_table(instants)
        for sign, when in ((1, SPAN.c.starts_at), (-1, SPAN.c.ends_at)):
            for idx, total, n in session.execute(
                select(p.c.idx, func.sum(SPAN.c.mrr_cents), func.count())
                .select_from(p.join(SPAN, and_(when > p.c.starts, when <= p.c.ends)))
                .where(when > instants[0], when <= instants[-1])
                .group_by(p.c.idx)
            ):
                deltas[int(idx)][0] += sign * int(total or 0)
                deltas[int(idx)][1] += sign * int(n)
    result = []
    for delta_mrr, delta_active in deltas:
        mrr += delta_mrr
        active += delta_active
        result.append((mrr, active))
    return result


def movements(
    session: Session, instants: Sequence[datetime], labels: Sequence[str]
) -> list[MovementRow]:
    """MRR movements between consecutive instants (len(labels) == len(instants) - 1).

    Each subscription's MRR at the start and end of a period is compared: from nothing to
    something is new (first time ever) or a reactivation; something to nothing is churn
    (cancelled, ended, paused or unpaid); up is expansion, down contraction. Only subscriptions
    with a span starting or ending inside the period can have moved, so only those are read.
    A subscription that starts and stops inside one period is in neither snapshot: no movement.
    """
    rows = [MovementRow(label=label) for label in labels]
    if len(instants) < 2:
        return rows
    levels = mrr_at(session, instants)
    for i, row in enumerate(rows):
        (row.mrr_start, row.active_start), (row.mrr_end, row.active_end) = (
            levels[i],
            levels[i + 1],
        )
    p = _periods_table(instants)
    lo, hi = instants[0], instants[-1]
    changed = union(
        select(p.c.idx.label("period"), SPAN.c.subscription_id.label("sub"))
        .select_from(
            p.join(SPAN, and_(SPAN.c.starts_at > p.c.starts, SPAN.c.starts_at <= p.c.ends))
        )
        .where(SPAN.c.starts_at > lo, SPAN.c.starts_at <= hi),
        select(p.c.idx.label("period"), SPAN.c.subscription_id.label("sub"))
        .select_from(p.join(SPAN, and_(SPAN.c.ends_at > p.c.starts, SPAN.c.ends_at <= p.c.ends)))
        .where(SPAN.c.ends_at > lo, SPAN.c.ends_at <= hi),
    ).subquery("changed")
    bounds = p.alias("bounds")

    def value_at(at: Any, name: str) -> Any:
        other = SPAN.alias(name)
        return func.coalesce(
            select(func.sum(other.c.mrr_cents))
            .where(
                other.c.subscription_id == changed.c.sub,
                other.c.starts_at <= at,
                or_(other.c.ends_at.is_(None), other.c.ends_at > at),
            )
            .scalar_subquery(),
            0,
        )

    earliest = SPAN.alias("earliest")
    first_start = (
        select(func.min(earliest.c.starts_at))
        .where(earliest.c.subscription_id == changed.c.sub)
        .scalar_subquery()
    )
    pairs = (
        select(
            changed.c.period,
            value_at(bounds.c.starts, "before_span").label("before"),
            value_at(bounds.c.ends, "after_span").label("after"),
            (first_start > bounds.c.starts).label("first_time"),
        )
        .select_from(changed.join(bounds, bounds.c.idx == changed.c.period))
        # Materialized: each value is looked up once per row, not once per use below.
        .cte("pairs")
        .prefix_with("MATERIALIZED")
    )
    grew = and_(pairs.c.before == 0, pairs.c.after > 0)
    is_new = and_(grew, pairs.c.first_time)
    is_back = and_(grew, not_(pairs.c.first_time))
    churned = and_(pairs.c.before > 0, pairs.c.after == 0)
    up = and_(pairs.c.before > 0, pairs.c.after > pairs.c.before)
    down = and_(pairs.c.after > 0, pairs.c.after < pairs.c.before)
    change = pairs.c.after - pairs.c.before
    query = select(
        pairs.c.period,
        func.count(case((is_new, 1))),
        func.coalesce(func.sum(case((is_new, change), else_=0)), 0),
        func.count(case((is_back, 1))),
        func.coalesce(func.sum(case((is_back, change), else_=0)), 0),
        func.count(case((churned, 1))),
        func.coalesce(func.sum(case((churned, -change), else_=0)), 0),
        func.count(case((up, 1))),
        func.coalesce(func.sum(case((up, change), else_=0)), 0),
        func.count(case((down, 1))),
        func.coalesce(func.sum(case((down, -change), else_=0)), 0),
    ).group_by(pairs.c.period)
    for values_ in session.execute(query):
        period, *numbers = values_
        row = rows[int(period) - 1]
        (
            row.new_count,
            row.new_mrr,
            row.reactivation_count,
            row.reactivation_mrr,
            row.churn_count,
            row.churn_mrr,
            row.expansion_count,
            row.expansion_mrr,
            row.contraction_count,
            row.contraction_mrr,
        ) = (int(n) for n in numbers)
    return rows


@dataclass
class CohortRow:
    label: str
    size: int
    retained: list[int] = field(default_factory=list)

    def rate(self, offset: int) -> float | None:
        return percent(self.retained[offset], self.size) if offset < len(self.retained) else None


def cohorts(
    session: Session, first_month: date, last_month: date, zone: ZoneInfo, now: datetime
) -> list[CohortRow]:
    """Recurring supporters grouped by the local month their subscription first brought in
    money; `retained[k]` = how many of them were still giving at the end of month k (month 0
    is the start month; the current month is measured now)."""
    months = make_buckets(first_of_month(first_month), last_month, "month", zone)
    if not months:
        return []
    ends = [min(m.ends, now) for m in months if m.starts <= now]
    rows = [CohortRow(label=m.first_day.strftime("%Y-%m"), size=0) for m in months]
    for k, row in enumerate(rows):
        row.retained = [0] * max(0, len(ends) - k)
    cohort_months = _bucket_table(months, "cohort_months")
    first_start = (
        select(SPAN.c.subscription_id.label("sub"), func.min(SPAN.c.starts_at).label("first"))
        .group_by(SPAN.c.subscription_id)
        .subquery("first_start")
    )
    members = (
        select(cohort_months.c.idx.label("cohort"), first_start.c.sub)
        .select_from(
            cohort_months.join(
                first_start,
                and_(
                    first_start.c.first >= cohort_months.c.starts,
                    first_start.c.first < cohort_months.c.ends,
                ),
            )
        )
        .cte("members")
    )
    for cohort, size in session.execute(
        select(members.c.cohort, func.count()).group_by(members.c.cohort)
    ):
        rows[int(cohort)].size = int(size)
    if not ends:
        return rows
    s = _instant_table(ends)
    still = session.execute(
        select(members.c.cohort, s.c.idx, func.count(func.distinct(members.c.sub)))
        .select_from(
            members.join(SPAN, SPAN.c.subscription_id == members.c.sub).join(
                s, and_(_open_at(s), s.c.idx >= members.c.cohort)
            )
        )
        .group_by(members.c.cohort, s.c.idx)
    )
    for cohort, idx, count in still:
        offset = int(idx) - int(cohort)
        if 0 <= offset < len(rows[int(cohort)].retained):
            rows[int(cohort)].retained[offset] = int(count)
    return rows


# Attribution: articles and banner variants, with the funnel


@dataclass
class FunnelRow:
    key: int | None
    name: str
    impressions: int = 0
    clicks: int = 0
    checkouts: int = 0
    donations: int = 0
    payments: int = 0
    revenue: int = 0

    @property
    def click_rate(self) -> float | None:
        return percent(self.clicks, self.impressions)

    @property
    def checkout_rate(self) -> float | None:
        return percent(self.checkouts, self.clicks)

    @property
    def completion_rate(self) -> float | None:
        return percent(self.donations, self.checkouts)

    @property
    def conversion(self) -> float | None:
        """First gifts per hundred banner impressions."""
        return percent(self.donations, self.impressions)

    @property
    def conversion_interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.donations, self.impressions) if self.impressions else None


FUNNEL_COLUMNS = (
    ("name", "Name"),
    ("impressions", "Impressions"),
    ("clicks", "Clicks"),
    ("checkouts", "Checkouts started"),
    ("donations", "First gifts"),
    ("payments", "Payments"),
    ("revenue", "Revenue"),
    ("click_rate", "Click rate %"),
    ("checkout_rate", "Checkout rate %"),
    ("completion_rate", "Completion rate %"),
    ("conversion", "Conversion %"),
    ("conversion_low", "Conversion 95% low"),
    ("conversion_high", "Conversion 95% high"),
)


def funnel(
    session: Session,
    by: str,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    *,
    limit: int | None = 50,
) -> list[FunnelRow]:
    """Per article (`by="article"`) or banner variant (`by="variant"`) in the local dates
    first_day..last_day: impressions and clicks (banner counters), checkouts started (donation
    intents), first gifts (intents completed), and payments and revenue (every donation paid in
    the range and attributed to it, renewals included), ordered by revenue."""
    if by not in ("article", "variant"):
        raise ReportError("Attribution is by article or by variant.")
    starts, ends = (
        local_midnight(first_day, zone),
        local_midnight(last_day + timedelta(days=1), zone),
    )
    d = DONATION
    stat_key = BannerStat.article_id if by == "article" else BannerStat.variant_id
    intent_key = DonationIntent.source_article_id if by == "article" else DonationIntent.variant_id
    donation_key = d.c.source_article_id if by == "article" else d.c.variant_id
    rows: dict[int | None, FunnelRow] = {}

    def row(raw: int | None) -> FunnelRow:
        # Banner counters use 0 for "no article": the support page itself.
        key = None if raw is None or raw == 0 else int(raw)
        if key not in rows:
            rows[key] = FunnelRow(key=key, name="")
        return rows[key]

    for stat_id, impressions, clicks in session.execute(
        select(stat_key, func.sum(BannerStat.impressions), func.sum(BannerStat.clicks))
        .where(BannerStat.day >= first_day, BannerStat.day <= last_day)
        .group_by(stat_key)
    ):
        r = row(stat_id)
        r.impressions += int(impressions or 0)
        r.clicks += int(clicks or 0)
    for intent_ref, started, completed in session.execute(
        select(
            intent_key,
            func.count(),
            func.count(case((DonationIntent.status == IntentStatus.COMPLETED, 1))),
        )
        .where(DonationIntent.created_at >= starts, DonationIntent.created_at < ends)
        .group_by(intent_key)
    ):
        r = row(intent_ref)
        r.checkouts += int(started)
        r.donations += int(completed)
    for donation_ref, payments, revenue in session.execute(
        select(donation_key, func.count(), func.sum(d.c.amount_cents + d.c.fee_cents))
        .where(d.c.paid_at >= starts, d.c.paid_at < ends, COUNTED)
        .group_by(donation_key)
    ):
        r = row(donation_ref)
        r.payments += int(payments)
        r.revenue += int(revenue or 0)
    keys = [k for k in rows if k is not None]
    if by == "article":
        names = {
            k: v
            for k, v in session.execute(
                select(Article.id, Article.title).where(Article.id.in_(keys))
            )
        }
        unnamed = "No article (support page)"
    else:
        names = {
            k: v
            for k, v in session.execute(
                select(BannerVariant.id, BannerVariant.name).where(BannerVariant.id.in_(keys))
            )
        }
        unnamed = "No banner"
    for key, r in rows.items():
        r.name = unnamed if key is None else names.get(key, f"#{key} (deleted)")
    ordered = sorted(
        rows.values(), key=lambda r: (-r.revenue, -r.donations, -r.impressions, r.name)
    )
    return ordered[:limit] if limit is not None else ordered


# The dashboard


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
    )
    previous_to_date = early
    previous_month = money_total([early, late], label=previous_first.strftime("%B %Y"))
    this_month.label = this_first.strftime("%B %Y")
    (movement,) = movements(session, [this_start, now], [this_first.strftime("%B %Y")])
    mrr, active = movement.mrr_end, movement.active_end
    one_off = gift_stats(session, this_start, now)["one_off"]
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
            or_(Donation.dispute_status.is_(None), Donation.dispute_status.not_in(["won", "lost"])),
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


# The full report, and exports


@dataclass(frozen=True)
class ReportRequest:
    start: date
    end: date
    grouping: str


@dataclass(frozen=True)
class Report:
    request: ReportRequest
    buckets: list[Bucket]
    money: list[MoneyRow]
    total: MoneyRow
    gifts: dict[str, GiftStats]
    movements: list[MovementRow]
    cohorts: list[CohortRow]
    articles: list[FunnelRow]
    variants: list[FunnelRow]


def movement_instants(buckets: Sequence[Bucket], now: datetime) -> list[datetime]:
    """Snapshot instants for the movements: each bucket's start and the last bucket's end,
    never later than now (the current period is measured so far)."""
    return [min(b.starts, now) for b in buckets] + [min(buckets[-1].ends, now)]


def full_report(session: Session, request: ReportRequest, zone: ZoneInfo, now: datetime) -> Report:
    buckets = make_buckets(request.start, request.end, request.grouping, zone)
    money = money_by_bucket(session, buckets)
    return Report(
        request=request,
        buckets=buckets,
        money=money,
        total=money_total(money),
        gifts=gift_stats(session, buckets[0].starts, buckets[-1].ends),
        movements=movements(session, movement_instants(buckets, now), [b.label for b in buckets]),
        cohorts=cohorts(session, request.start, request.end, zone, now),
        articles=funnel(session, "article", request.start, request.end, zone),
        variants=funnel(session, "variant", request.start, request.end, zone),
    )


def cell(row: object, name: str) -> Any:
    """One value of a report row by column name (conversion bounds unpacked)."""
    if name in ("conversion_low", "conversion_high") and isinstance(row, FunnelRow):
        interval = row.conversion_interval
        return None if interval is None else interval[0 if name.endswith("low") else 1]
    return getattr(row, name)


EXPORTS = ("money", "movements", "cohorts", "articles", "variants", "donations")


def donation_rows(
    session: Session, starts: datetime, ends: datetime, *, batch: int = 1000
) -> Iterator[tuple[Any, ...]]:
    """Every donation paid in [starts, ends), streamed from a server-side cursor in batches:
    memory stays flat however many rows there are."""
    d = DONATION
    query = (
        select(
            d.c.id,
            d.c.paid_at,
            d.c.receipt_number,
            d.c.kind,
            d.c.status,
            d.c.currency,
            d.c.amount_cents,
            d.c.fee_cents,
            d.c.refunded_cents,
            d.c.dispute_status,
            d.c.supporter_id,
            d.c.subscription_id,
            d.c.source_article_id,
            d.c.variant_id,
        )
        .where(d.c.paid_at >= starts, d.c.paid_at < ends)
        .order_by(d.c.paid_at, d.c.id)
        .execution_options(stream_results=True, yield_per=batch)
    )
    result = session.execute(query)
    for partition in result.partitions():
        for row in partition:
            yield tuple(row)


DONATION_EXPORT_HEADER = (
    "id",
    "paid_at_utc",
    "receipt_number",
    "kind",
    "status",
    "currency",
    "gift",
    "fee_covered",
    "refunded",
    "dispute_status",
    "supporter_id",
    "subscription_id",
    "source_article_id",
    "variant_id",
)
