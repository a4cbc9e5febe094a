"""The daily summary: money per local day, currency, kind and gift amount, kept in step with
every money change and rebuilt from the raw rows on demand.

Kept from Python, in the transaction of each change, by one function (`add`) that every writer
calls: a new donation, a refund whose status moved, a dispute's money movement. SQLite has no
time zone database, so a trigger could not find the local day a payment belongs to; Python
knows it from the same `local_midnight` the reports use. The upsert adds to the row
(INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x): two webhook deliveries at once on
PostgreSQL both add, the second waiting for the first's row lock, and rows are touched in key
order so two transactions never wait on each other in a circle.

The summary is only read for zones listed in `summary_zone` (a rebuild adds its zone); the
writers keep every listed zone up to date. With none listed, writers do nothing more than look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, delete, func, select, text, values
from sqlalchemy.orm import Session
from sqlalchemy.sql import column

from membership.dates import first_of_month
from membership.models import (
    COUNTED_REFUNDS,
    DailyMrr,
    DailySummary,
    DisputeMovement,
    Donation,
    DonationRefund,
    DonationStatus,
    MrrSpan,
    SummaryZone,
    UTCDateTime,
    utcnow,
)
from membership.services.reports.periods import local_day, local_midnight
from membership.services.sql import dialect_insert

SUMMARY = DailySummary.__table__
KEY = ("zone", "day", "currency", "kind", "amount_cents")
MRR = DailyMrr.__table__
MRR_FIGURES = ("started_cents", "started_count", "ended_cents", "ended_count")
FIGURES = ("donations", "fees_cents", "refunds_cents", "dispute_cents", "dispute_fee_cents")


def summary_zones(session: Session) -> list[str]:
    return list(session.scalars(select(SummaryZone.zone).order_by(SummaryZone.zone)))


def covers(session: Session, zone: ZoneInfo) -> bool:
    """Whether the summary is complete for local days in `zone`."""
    return session.get(SummaryZone, zone.key) is not None


@dataclass(frozen=True)
class Change:
    """Money that moved at `when`, on the row of a donation of this currency, kind and gift."""

    when: datetime
    currency: str
    kind: str
    amount_cents: int
    donations: int = 0
    fees_cents: int = 0
    refunds_cents: int = 0
    dispute_cents: int = 0
    dispute_fee_cents: int = 0


def add(session: Session, changes: Iterable[Change]) -> None:
    """Add the changes to the summary of every zone it is kept for."""
    changes = list(changes)
    if not changes:
        return
    zones = summary_zones(session)
    if not zones:
        return
    totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(FIGURES))
    for name in zones:
        zone = ZoneInfo(name)
        for c in changes:
            key = (name, local_day(c.when, zone), c.currency, str(c.kind), c.amount_cents)
            figures = totals[key]
            for i, field in enumerate(FIGURES):
                figures[i] += getattr(c, field)
    rows = [
        dict(zip(KEY, key, strict=True)) | dict(zip(FIGURES, figures, strict=True))
        for key, figures in sorted(totals.items())
        if any(figures)
    ]
    if rows:
        session.execute(_upsert(session), rows)


def _upsert(session: Session) -> Any:
    insert = dialect_insert(session, SUMMARY)
    return insert.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: SUMMARY.c[name] + insert.excluded[name] for name in FIGURES},
    )


def donation_change(donation: Donation, **figures: int) -> Change:
    return Change(
        donation.paid_at,
        donation.currency,
        str(donation.kind),
        donation.amount_cents,
        **figures,
    )


def donation_added(session: Session, donation: Donation) -> None:
    """A new donation: counted unless its payment failed."""
    if donation.status is DonationStatus.FAILED:
        return
    add(session, [donation_change(donation, donations=1, fees_cents=donation.fee_cents)])


def counted_refunds(session: Session, donation_id: int) -> list[tuple[datetime, int]]:
    """(refunded_at, amount) of the refunds of a donation that count now."""
    return [
        (when, int(amount))
        for when, amount in session.execute(
            select(DonationRefund.refunded_at, DonationRefund.amount_cents).where(
                DonationRefund.donation_id == donation_id,
                DonationRefund.status.in_(COUNTED_REFUNDS),
            )
        )
    ]


def refunds_changed(
    session: Session, donation: Donation, before: Sequence[tuple[datetime, int]]
) -> None:
    """The donation's counted refunds went from `before` to what the rows say now."""
    after = counted_refunds(session, donation.id)
    if sorted(before) == sorted(after):
        return
    key = (donation.currency, str(donation.kind), donation.amount_cents)
    add(
        session,
        [Change(when, *key, refunds_cents=-amount) for when, amount in before]
        + [Change(when, *key, refunds_cents=amount) for when, amount in after],
    )


def dispute_moved(session: Session, donation: Donation, movement: DisputeMovement) -> None:
    add(
        session,
        [
            Change(
                movement.moved_at,
                donation.currency,
                str(donation.kind),
                donation.amount_cents,
                dispute_cents=movement.amount_cents,
                dispute_fee_cents=movement.fee_cents,
            )
        ],
    )


def mrr_changed(
    session: Session,
    started: Sequence[tuple[datetime, int]] = (),
    ended: Sequence[tuple[datetime, int]] = (),
) -> None:
    """Spans of (when, mrr_cents) that started or ended, added to every kept zone."""
    if not started and not ended:
        return
    zones = summary_zones(session)
    totals: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for name in zones:
        zone = ZoneInfo(name)
        for offset, changes in ((0, started), (2, ended)):
            for when, mrr in changes:
                figures = totals[(name, local_day(when, zone))]
                figures[offset] += mrr
                figures[offset + 1] += 1
    rows = [
        {"zone": name, "day": day} | dict(zip(MRR_FIGURES, figures, strict=True))
        for (name, day), figures in sorted(totals.items())
    ]
    if rows:
        session.execute(_mrr_upsert(session), rows)


def _mrr_upsert(session: Session) -> Any:
    insert = dialect_insert(session, MRR)
    return insert.on_conflict_do_update(
        index_elements=["zone", "day"],
        set_={name: MRR.c[name] + insert.excluded[name] for name in MRR_FIGURES},
    )


# Rebuilding from the raw rows.


def rebuild(session: Session, zone: ZoneInfo) -> int:
    """Recompute the summary of `zone` from the raw rows and mark the zone as kept.
    Idempotent; the number of rows written."""
    if session.get_bind().dialect.name == "postgresql":
        # Writers wait until the rebuild commits, then add their change on top of it.
        session.execute(text("LOCK TABLE daily_summary, daily_mrr IN EXCLUSIVE MODE"))
    session.execute(delete(DailySummary).where(DailySummary.zone == zone.key))
    session.execute(delete(DailyMrr).where(DailyMrr.zone == zone.key))
    span = _raw_span(session, zone)
    written = 0
    if span is not None:
        first, last = span
        month = first_of_month(first)
        while month <= last:
            next_month = first_of_month(month, 1)
            days = [
                month + timedelta(days=k)
                for k in range((next_month - month).days)
                if first <= month + timedelta(days=k) <= last
            ]
            written += _rebuild_days(session, zone, days)
            month = next_month
    written += _rebuild_mrr(session, zone)
    state = session.get(SummaryZone, zone.key)
    if state is None:
        session.add(SummaryZone(zone=zone.key, rebuilt_at=utcnow()))
    else:
        state.rebuilt_at = utcnow()
    session.flush()
    return written


def _rebuild_mrr(session: Session, zone: ZoneInfo) -> int:
    """MRR started and ended per local day, from every span (a few per subscription)."""
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for starts_at, ends_at, mrr in session.execute(
        select(MrrSpan.starts_at, MrrSpan.ends_at, MrrSpan.mrr_cents)
    ):
        started = days[local_day(starts_at, zone)]
        started[0] += mrr
        started[1] += 1
        if ends_at is not None:
            ended = days[local_day(ends_at, zone)]
            ended[2] += mrr
            ended[3] += 1
    rows = [
        {"zone": zone.key, "day": day} | dict(zip(MRR_FIGURES, figures, strict=True))
        for day, figures in sorted(days.items())
    ]
    if rows:
        session.execute(_mrr_upsert(session), rows)
    return len(rows)


def _raw_span(session: Session, zone: ZoneInfo) -> tuple[date, date] | None:
    instants = [
        instant
        for pair in (
            session.execute(select(func.min(Donation.paid_at), func.max(Donation.paid_at))).one(),
            session.execute(
                select(func.min(DonationRefund.refunded_at), func.max(DonationRefund.refunded_at))
            ).one(),
            session.execute(
                select(func.min(DisputeMovement.moved_at), func.max(DisputeMovement.moved_at))
            ).one(),
        )
        for instant in pair
        if instant is not None
    ]
    if not instants:
        return None
    return local_day(min(instants), zone), local_day(max(instants), zone)


def _rebuild_days(session: Session, zone: ZoneInfo, days: Sequence[date]) -> int:
    """Summary rows of `days` (consecutive, within one month) from the raw rows."""
    if not days:
        return 0
    table = (
        values(
            column("day", Date),
            column("starts", UTCDateTime()),
            column("ends", UTCDateTime()),
            name="days",
        )
        .data(
            [
                (d, local_midnight(d, zone), local_midnight(d + timedelta(days=1), zone))
                for d in days
            ]
        )
        .cte("days")
    )
    lo, hi = local_midnight(days[0], zone), local_midnight(days[-1] + timedelta(days=1), zone)
    d, r, m = Donation.__table__, DonationRefund.__table__, DisputeMovement.__table__
    totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(FIGURES))
    paid = (
        select(
            table.c.day,
            d.c.currency,
            d.c.kind,
            d.c.amount_cents,
            func.count(),
            func.sum(d.c.fee_cents),
        )  # fmt: skip
        .select_from(table.join(d, and_(d.c.paid_at >= table.c.starts, d.c.paid_at < table.c.ends)))
        .where(d.c.paid_at >= lo, d.c.paid_at < hi, d.c.status != DonationStatus.FAILED.value)
        .group_by(table.c.day, d.c.currency, d.c.kind, d.c.amount_cents)
    )
    for day, currency, kind, amount, count, fees in session.execute(paid):
        figures = totals[(_as_date(day), currency, str(kind), int(amount))]
        figures[0] += int(count)
        figures[1] += int(fees or 0)
    refunded = (
        select(table.c.day, d.c.currency, d.c.kind, d.c.amount_cents, func.sum(r.c.amount_cents))
        .select_from(
            table.join(
                r, and_(r.c.refunded_at >= table.c.starts, r.c.refunded_at < table.c.ends)
            ).join(d, d.c.id == r.c.donation_id)
        )
        .where(r.c.refunded_at >= lo, r.c.refunded_at < hi, r.c.status.in_(COUNTED_REFUNDS))
        .group_by(table.c.day, d.c.currency, d.c.kind, d.c.amount_cents)
    )
    for day, currency, kind, amount, cents in session.execute(refunded):
        totals[(_as_date(day), currency, str(kind), int(amount))][2] += int(cents or 0)
    disputed = (
        select(
            table.c.day,
            d.c.currency,
            d.c.kind,
            d.c.amount_cents,
            func.sum(m.c.amount_cents),
            func.sum(m.c.fee_cents),
        )  # fmt: skip
        .select_from(
            table.join(m, and_(m.c.moved_at >= table.c.starts, m.c.moved_at < table.c.ends)).join(
                d, d.c.id == m.c.donation_id
            )
        )
        .where(m.c.moved_at >= lo, m.c.moved_at < hi)
        .group_by(table.c.day, d.c.currency, d.c.kind, d.c.amount_cents)
    )
    for day, currency, kind, amount, cents, fees in session.execute(disputed):
        figures = totals[(_as_date(day), currency, str(kind), int(amount))]
        figures[3] += int(cents or 0)
        figures[4] += int(fees or 0)
    rows = [
        dict(zip(KEY, (zone.key, *key), strict=True)) | dict(zip(FIGURES, figures, strict=True))
        for key, figures in sorted(totals.items())
        if any(figures)
    ]
    if rows:
        session.execute(_upsert(session), rows)
    return len(rows)


def _as_date(value: Any) -> date:
    """SQLite hands back a VALUES date as its ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
