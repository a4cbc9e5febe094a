"""The full report for a date range: every family of figures, bucketed by day, week or month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from membership.services.reports.attribution import FUNNEL_PAGE_COLUMNS, FunnelRow, funnel
from membership.services.reports.columns import Column
from membership.services.reports.money import (
    MONEY_COLUMNS,
    GiftStats,
    MoneyRow,
    gift_stats,
    money_by_bucket,
    money_total,
)
from membership.services.reports.periods import Bucket, make_buckets, movement_instants
from membership.services.reports.recurring import (
    MOVEMENT_COLUMNS,
    CohortRow,
    MovementRow,
    cohorts,
    movements,
)


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
    issues: list[FunnelRow]


@dataclass(frozen=True)
class ReportTables:
    """The columns of the page's tables (the cohorts table has one column per month)."""

    money: tuple[Column, ...]
    movements: tuple[Column, ...]
    funnel: tuple[Column, ...]


REPORT_TABLES = ReportTables(MONEY_COLUMNS, MOVEMENT_COLUMNS, FUNNEL_PAGE_COLUMNS)


def full_report(session: Session, request: ReportRequest, zone: ZoneInfo, now: datetime) -> Report:
    buckets = make_buckets(request.start, request.end, request.grouping, zone)
    money = money_by_bucket(session, buckets, zone)
    return Report(
        request=request,
        buckets=buckets,
        money=money,
        total=money_total(money),
        gifts=gift_stats(session, buckets[0].starts, buckets[-1].ends, zone),
        movements=movements(
            session, movement_instants(buckets, now), [b.label for b in buckets], zone
        ),
        cohorts=cohorts(session, request.start, request.end, zone, now),
        articles=funnel(session, "article", request.start, request.end, zone),
        variants=funnel(session, "variant", request.start, request.end, zone),
        issues=funnel(session, "issue", request.start, request.end, zone),
    )
