"""Recurring support: MRR at any instant, its movements between instants (new, expansion,
contraction, churn, reactivation) and how each month's new supporters are retained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, case, func, not_, or_, select, union, values
from sqlalchemy.orm import Session
from sqlalchemy.sql import column
from sqlalchemy.sql.selectable import CTE

from membership.dates import first_of_month
from membership.models import DailyMrr, MrrSpan
from membership.services.reports import summary
from membership.services.reports.columns import Column
from membership.services.reports.periods import (
    bucket_table,
    instant_table,
    local_day,
    local_midnight,
    make_buckets,
    periods_table,
    ranges_table,
)
from membership.services.reports.statistics import percent

SPAN = MrrSpan.__table__


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
    Column("label", "Period"),
    Column("mrr_start", "MRR at start", money=True),
    Column("new_mrr", "New", money=True),
    Column("expansion_mrr", "Expansion", money=True),
    Column("contraction_mrr", "Contraction", money=True),
    Column("churn_mrr", "Churn", money=True),
    Column("reactivation_mrr", "Reactivation", money=True),
    Column("mrr_end", "MRR at end", money=True),
    Column("active_start", "Active at start"),
    Column("new_count", "New supporters"),
    Column("churn_count", "Churned"),
    Column("reactivation_count", "Recovered"),
    Column("active_end", "Active at end"),
    Column("churn_rate", "Churn rate %"),
    Column("mrr_churn_rate", "MRR churn rate %"),
)


def _open_at(snapshots: CTE) -> Any:
    return and_(
        SPAN.c.starts_at <= snapshots.c.at,
        or_(SPAN.c.ends_at.is_(None), SPAN.c.ends_at > snapshots.c.at),
    )


def mrr_at(
    session: Session, instants: Sequence[datetime], zone: ZoneInfo | None = None
) -> list[tuple[int, int]]:
    """(MRR in cents, active recurring supporters) at each of the increasing `instants`.

    With the daily summary kept for `zone`: what started before each instant's local day less
    what ended before it, from the summary, plus the spans that started or ended between that
    day's midnight and the instant, from the raw rows; the cost does not grow with the spans.
    Otherwise the level at the first instant is one pass over the spans open then; later levels
    add the spans that start and subtract those that end in between, which reads only the spans
    that changed (a subscription has at most one open span at a time, so spans count supporters).
    """
    if not instants:
        return []
    if zone is not None and summary.covers(session, zone):
        return _mrr_from_summary(session, instants, zone)
    first = instants[0]
    level = session.execute(
        select(func.coalesce(func.sum(SPAN.c.mrr_cents), 0), func.count()).where(
            SPAN.c.starts_at <= first, or_(SPAN.c.ends_at.is_(None), SPAN.c.ends_at > first)
        )
    ).one()
    mrr, active = int(level[0]), int(level[1])
    deltas = [[0, 0] for _ in instants]
    if len(instants) > 1:
        p = periods_table(instants)
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


def _mrr_from_summary(
    session: Session, instants: Sequence[datetime], zone: ZoneInfo
) -> list[tuple[int, int]]:
    levels = [[0, 0] for _ in instants]
    days = [local_day(at, zone) for at in instants]
    table = (
        values(column("idx", Integer), column("day", Date), name="instant_days")
        .data(list(enumerate(days)))
        .cte("instant_days")
    )
    m = DailyMrr.__table__
    for idx, cents, count in session.execute(
        select(
            table.c.idx,
            func.sum(m.c.started_cents - m.c.ended_cents),
            func.sum(m.c.started_count - m.c.ended_count),
        )
        .select_from(table.join(m, m.c.day < table.c.day))
        .where(m.c.zone == zone.key)
        .group_by(table.c.idx)
    ):
        levels[int(idx)] = [int(cents or 0), int(count or 0)]
    # The part of each instant's own day up to the instant (inclusive: a span open at `at`
    # started at or before it and had not ended by it).
    edges = ranges_table(
        [
            (i, local_midnight(day, zone), at)
            for i, (day, at) in enumerate(zip(days, instants, strict=True))
        ],
        "edges",
    )
    for sign, when in ((1, SPAN.c.starts_at), (-1, SPAN.c.ends_at)):
        for idx, total, n in session.execute(
            select(edges.c.idx, func.sum(SPAN.c.mrr_cents), func.count())
            .select_from(edges.join(SPAN, and_(when >= edges.c.starts, when <= edges.c.ends)))
            .where(when >= min(local_midnight(d, zone) for d in days), when <= max(instants))
            .group_by(edges.c.idx)
        ):
            levels[int(idx)][0] += sign * int(total or 0)
            levels[int(idx)][1] += sign * int(n)
    return [(mrr, active) for mrr, active in levels]


def movements(
    session: Session,
    instants: Sequence[datetime],
    labels: Sequence[str],
    zone: ZoneInfo | None = None,
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
    levels = mrr_at(session, instants, zone)
    for i, row in enumerate(rows):
        (row.mrr_start, row.active_start), (row.mrr_end, row.active_end) = (
            levels[i],
            levels[i + 1],
        )
    p = periods_table(instants)
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
    # Each changed subscription's spans read once (one join, not a look-up per value): its MRR
    # at the period's start and end, and whether its first span began inside the period.
    other = SPAN.alias("other")

    def mrr_open_at(at: Any) -> Any:
        is_open = and_(
            other.c.starts_at <= at, or_(other.c.ends_at.is_(None), other.c.ends_at > at)
        )
        return func.coalesce(func.sum(case((is_open, other.c.mrr_cents), else_=0)), 0)

    pairs = (
        select(
            changed.c.period,
            mrr_open_at(bounds.c.starts).label("before"),
            mrr_open_at(bounds.c.ends).label("after"),
            (func.min(other.c.starts_at) > bounds.c.starts).label("first_time"),
        )
        .select_from(
            changed.join(bounds, bounds.c.idx == changed.c.period).join(
                other, other.c.subscription_id == changed.c.sub
            )
        )
        .group_by(changed.c.period, changed.c.sub, bounds.c.starts, bounds.c.ends)
        .cte("pairs")
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
    cohort_months = bucket_table(months, "cohort_months")
    # A subscription's first span began in the range when one began there and none before:
    # only the spans of the range are read, not every span ever.
    lo, hi = months[0].starts, months[-1].ends
    earlier = SPAN.alias("earlier")
    first_start = (
        select(SPAN.c.subscription_id.label("sub"), func.min(SPAN.c.starts_at).label("first"))
        .where(
            SPAN.c.starts_at >= lo,
            SPAN.c.starts_at < hi,
            ~select(earlier.c.id)
            .where(earlier.c.subscription_id == SPAN.c.subscription_id, earlier.c.starts_at < lo)
            .exists(),
        )
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
    s = instant_table(ends)
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
