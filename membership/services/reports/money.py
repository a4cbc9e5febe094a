"""Money by period: gross, fees, refunds, disputes and net per bucket, and the size of gifts.

Refunds count while pending or succeeded, dated when made; disputes count the money Stripe
withdrew less what it reinstated, dated when it moved, and Stripe's dispute fee apart. An
inquiry moves no money and counts nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, and_, case, cast, func, select, true
from sqlalchemy.orm import Session

from membership.models import (
    COUNTED_REFUNDS,
    DailySummary,
    DisputeMovement,
    Donation,
    DonationKind,
    DonationRefund,
    DonationStatus,
)
from membership.services.reports import summary
from membership.services.reports.columns import Column
from membership.services.reports.periods import Bucket, day_ranges_table, ranges_table, split_days
from membership.services.reports.statistics import divide_half_up, histogram_median

DONATION = Donation.__table__
REFUND = DonationRefund.__table__
DISPUTE = DisputeMovement.__table__
SUMMARY = DailySummary.__table__
# Money that counts: every donation but the failed payments.
COUNTED = DONATION.c.status != DonationStatus.FAILED.value


@dataclass
class MoneyRow:
    label: str
    donations: int = 0
    gross: int = 0
    fees: int = 0
    gifts: int = 0
    refunds: int = 0
    disputes: int = 0
    dispute_fees: int = 0
    one_off_count: int = 0
    one_off_gross: int = 0
    recurring_count: int = 0
    recurring_gross: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.refunds - self.disputes - self.dispute_fees

    @property
    def average_gift(self) -> int:
        return divide_half_up(self.gifts, self.donations)


MONEY_COLUMNS = (
    Column("label", "Period"),
    Column("donations", "Donations"),
    Column("gross", "Gross", money=True),
    Column("fees", "Fees covered", money=True),
    Column("gifts", "Gifts", money=True),
    Column("refunds", "Refunds", money=True),
    Column("disputes", "Disputes", money=True),
    Column("dispute_fees", "Dispute fees", money=True),
    Column("net", "Net", money=True),
    Column("one_off_count", "One-off count"),
    Column("one_off_gross", "One-off gross", money=True),
    Column("recurring_count", "Recurring count"),
    Column("recurring_gross", "Recurring gross", money=True),
    Column("average_gift", "Average gift", money=True),
)


def money_by_bucket(
    session: Session, buckets: Sequence[Bucket], zone: ZoneInfo | None = None
) -> list[MoneyRow]:
    """Gross, fees, refunds, disputes and net per bucket, one-off and recurring apart.

    Given the zone the buckets are local to, and when the daily summary is kept for it, whole
    local days are read from the summary and only partial days at the edges from the raw rows:
    the figures are the same either way.
    """
    rows = [MoneyRow(label=b.label) for b in buckets]
    if not buckets:
        return rows
    raw, days = _plan([(b.starts, b.ends) for b in buckets], session, zone)
    if raw:
        _raw_money(session, raw, rows)
    if days and zone is not None:
        _summary_money(session, zone, days, rows)
    for row in rows:
        row.recurring_count = row.donations - row.one_off_count
        row.recurring_gross = row.gross - row.one_off_gross
    return rows


Ranges = list[tuple[int, datetime, datetime]]
DayRanges = list[tuple[int, date, date]]


def _plan(
    ranges: Sequence[tuple[datetime, datetime]], session: Session, zone: ZoneInfo | None
) -> tuple[Ranges, DayRanges]:
    """Which parts of each range the raw rows answer for, and which whole days the summary."""
    if zone is None or not summary.covers(session, zone):
        return [(i, a, b) for i, (a, b) in enumerate(ranges)], []
    raw: Ranges = []
    days: DayRanges = []
    for i, (starts, ends) in enumerate(ranges):
        split = split_days(starts, ends, zone)
        if split.has_days:
            days.append((i, split.first_day, split.last_day))
        raw.extend((i, a, b) for a, b in split.edges)
    return raw, days


def _summary_money(session: Session, zone: ZoneInfo, days: DayRanges, rows: list[MoneyRow]) -> None:
    t = day_ranges_table(days)
    s = SUMMARY
    one_off = s.c.kind == DonationKind.ONE_OFF.value
    gifts = cast(s.c.amount_cents, BigInteger) * s.c.donations
    query = (
        select(
            t.c.idx,
            func.sum(s.c.donations),
            func.sum(s.c.fees_cents),
            func.sum(gifts),
            func.sum(s.c.refunds_cents),
            func.sum(s.c.dispute_cents),
            func.sum(s.c.dispute_fee_cents),
            func.sum(case((one_off, s.c.donations), else_=0)),
            func.sum(case((one_off, gifts + s.c.fees_cents), else_=0)),
        )
        .select_from(t.join(s, and_(s.c.day >= t.c.first_day, s.c.day <= t.c.last_day)))
        .where(
            s.c.zone == zone.key,
            s.c.day >= min(d[1] for d in days),
            s.c.day <= max(d[2] for d in days),
        )
        .group_by(t.c.idx)
    )
    for (
        idx,
        count,
        fees,
        gift,
        refunds,
        disputes,
        dispute_fees,
        n_one_off,
        one_off_gross,
    ) in session.execute(query):
        row = rows[int(idx)]
        row.donations += int(count or 0)
        row.fees += int(fees or 0)
        row.gifts += int(gift or 0)
        row.gross += int(gift or 0) + int(fees or 0)
        row.refunds += int(refunds or 0)
        row.disputes += int(disputes or 0)
        row.dispute_fees += int(dispute_fees or 0)
        row.one_off_count += int(n_one_off or 0)
        row.one_off_gross += int(one_off_gross or 0)


def _raw_money(session: Session, ranges: Ranges, rows: list[MoneyRow]) -> None:
    b = ranges_table(ranges, "buckets")
    first, last = min(r[1] for r in ranges), max(r[2] for r in ranges)
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
        row = rows[int(idx)]
        row.donations += int(count)
        row.gross += int(gross)
        row.fees += int(fees)
        row.gifts += int(gifts)
        row.one_off_count += int(one_off_count)
        row.one_off_gross += int(one_off_gross)
    refunds = session.execute(
        select(b.c.idx, func.sum(REFUND.c.amount_cents))
        .select_from(
            b.join(
                REFUND, and_(REFUND.c.refunded_at >= b.c.starts, REFUND.c.refunded_at < b.c.ends)
            )
        )
        .where(
            REFUND.c.refunded_at >= first,
            REFUND.c.refunded_at < last,
            REFUND.c.status.in_(COUNTED_REFUNDS),
        )
        .group_by(b.c.idx)
    )
    for idx, amount in refunds:
        rows[int(idx)].refunds += int(amount or 0)
    disputes = session.execute(
        select(b.c.idx, func.sum(DISPUTE.c.amount_cents), func.sum(DISPUTE.c.fee_cents))
        .select_from(
            b.join(DISPUTE, and_(DISPUTE.c.moved_at >= b.c.starts, DISPUTE.c.moved_at < b.c.ends))
        )
        .where(DISPUTE.c.moved_at >= first, DISPUTE.c.moved_at < last)
        .group_by(b.c.idx)
    )
    for idx, amount, fee in disputes:
        rows[int(idx)].disputes += int(amount or 0)
        rows[int(idx)].dispute_fees += int(fee or 0)


def money_total(rows: Sequence[MoneyRow], label: str = "Total") -> MoneyRow:
    total = MoneyRow(label=label)
    for name in (
        "donations",
        "gross",
        "fees",
        "gifts",
        "refunds",
        "disputes",
        "dispute_fees",
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


def gift_stats(
    session: Session, starts: datetime, ends: datetime, zone: ZoneInfo | None = None
) -> dict[str, GiftStats]:
    """Average and median gift (amount_cents, the fee not included), overall and per kind.

    The median comes from a histogram of amounts computed by the database (people give a few
    dozen distinct amounts), so it is exact without sorting every row in Python. Whole local
    days come from the daily summary when it is kept for `zone` (it has the amounts too).
    """
    d = DONATION
    counts_by: dict[tuple[str, int], int] = defaultdict(int)
    raw, days = _plan([(starts, ends)], session, zone)
    for _, a, b in raw:
        for kind, amount, n in session.execute(
            select(d.c.kind, d.c.amount_cents, func.count())
            .where(d.c.paid_at >= a, d.c.paid_at < b, COUNTED)
            .group_by(d.c.kind, d.c.amount_cents)
        ):
            counts_by[(str(kind), int(amount))] += int(n)
    if days and zone is not None:
        s = SUMMARY
        for kind, amount, n in session.execute(
            select(s.c.kind, s.c.amount_cents, func.sum(s.c.donations))
            .where(s.c.zone == zone.key, s.c.day >= days[0][1], s.c.day <= days[0][2])
            .group_by(s.c.kind, s.c.amount_cents)
        ):
            counts_by[(str(kind), int(amount))] += int(n or 0)
    histogram = sorted((amount, kind, n) for (kind, amount), n in counts_by.items() if n)
    result: dict[str, GiftStats] = {}
    for name, kinds in (
        ("all", {DonationKind.ONE_OFF.value, DonationKind.RECURRING.value}),
        ("one_off", {DonationKind.ONE_OFF.value}),
        ("recurring", {DonationKind.RECURRING.value}),
    ):
        counts = [(amount, n) for amount, kind, n in histogram if kind in kinds]
        n = sum(c for _, c in counts)
        total = sum(a * c for a, c in counts)
        result[name] = GiftStats(n, divide_half_up(total, n), histogram_median(counts))
    return result
