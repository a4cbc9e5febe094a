"""Money by period: gross, fees, refunds, disputes and net per bucket, and the size of gifts.

Refunds count while pending or succeeded, dated when made; disputes count the money Stripe
withdrew less what it reinstated, dated when it moved, and Stripe's dispute fee apart. An
inquiry moves no money and counts nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session

from membership.models import (
    COUNTED_REFUNDS,
    DisputeMovement,
    Donation,
    DonationKind,
    DonationRefund,
    DonationStatus,
)
from membership.services.reports.columns import Column
from membership.services.reports.periods import Bucket, bucket_table
from membership.services.reports.statistics import divide_half_up, histogram_median

DONATION = Donation.__table__
REFUND = DonationRefund.__table__
DISPUTE = DisputeMovement.__table__
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


def money_by_bucket(session: Session, buckets: Sequence[Bucket]) -> list[MoneyRow]:
    """Gross, fees, refunds, disputes and net per bucket, one-off and recurring apart."""
    rows = [MoneyRow(label=b.label) for b in buckets]
    if not buckets:
        return rows
    b = bucket_table(buckets)
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
        .where(
            REFUND.c.refunded_at >= first,
            REFUND.c.refunded_at < last,
            REFUND.c.status.in_(COUNTED_REFUNDS),
        )
        .group_by(b.c.idx)
    )
    for idx, amount in refunds:
        rows[idx].refunds = int(amount or 0)
    disputes = session.execute(
        select(b.c.idx, func.sum(DISPUTE.c.amount_cents), func.sum(DISPUTE.c.fee_cents))
        .select_from(
            b.join(DISPUTE, and_(DISPUTE.c.moved_at >= b.c.starts, DISPUTE.c.moved_at < b.c.ends))
        )
        .where(DISPUTE.c.moved_at >= first, DISPUTE.c.moved_at < last)
        .group_by(b.c.idx)
    )
    for idx, amount, fee in disputes:
        rows[idx].disputes, rows[idx].dispute_fees = int(amount or 0), int(fee or 0)
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
        n = sum(c for _, c in counts)
        total = sum(a * c for a, c in counts)
        result[name] = GiftStats(n, divide_half_up(total, n), histogram_median(counts))
    return result
