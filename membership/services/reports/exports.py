"""The CSV downloads of the reports: each report table, and every donation of a range, as rows of text.

Rows are computed lazily, while the download streams; the choice of report and its range are
checked (and the download audited) before the first row, so a bad request fails with a message
rather than in the middle of a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.formatting import decimal_amount
from membership.models import StaffMember
from membership.services.reports.attribution import FUNNEL_COLUMNS, funnel
from membership.services.reports.columns import Column
from membership.services.reports.money import DONATION, MONEY_COLUMNS, money_by_bucket, money_total
from membership.services.reports.periods import (
    ReportError,
    local_days,
    make_buckets,
    movement_instants,
)
from membership.services.reports.range_report import ReportRequest
from membership.services.reports.recurring import MOVEMENT_COLUMNS, cohorts, movements
from membership.services.staff import audit

# What can be downloaded, as the export form offers it.
EXPORTS = {
    "money": "Money by period",
    "movements": "MRR movements",
    "cohorts": "Cohort retention",
    "articles": "Articles",
    "variants": "Banner variants",
    "issues": "Newsletter issues",
    "donations": "Every donation",
}

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


@dataclass(frozen=True)
class ReportExport:
    filename: str
    rows: Iterator[list[str]]


def export_report(
    session: Session,
    actor: StaffMember,
    kind: str,
    request: ReportRequest,
    *,
    zone: ZoneInfo,
    currency: str,
    now: datetime,
) -> ReportExport:
    """Check the request, record the download in the audit log (flushed, for the caller to commit
    before streaming), and return the file's name and its rows, computed as they are read."""
    if kind not in EXPORTS:
        raise ReportError(f"Export one of {', '.join(EXPORTS)}.")
    # Fails here, before the first byte, rather than in the middle of the stream.
    make_buckets(request.start, request.end, request.grouping, zone)
    audit.record(
        session,
        actor,
        "report.exported",
        target_type="report",
        target_id=kind,
        details={
            "start": request.start.isoformat(),
            "end": request.end.isoformat(),
            "group": request.grouping,
        },
    )
    filename = f"{kind}-{request.start.isoformat()}-{request.end.isoformat()}.csv"
    return ReportExport(filename, _rows(session, kind, request, zone, currency, now))


def _rows(
    session: Session,
    kind: str,
    request: ReportRequest,
    zone: ZoneInfo,
    currency: str,
    now: datetime,
) -> Iterator[list[str]]:
    def money(cents: int | None) -> str:
        return "" if cents is None else decimal_amount(int(cents), currency)

    if kind == "donations":
        starts, ends = local_days(request.start, request.end, zone)
        yield list(DONATION_EXPORT_HEADER)
        for row in donation_rows(session, starts, ends):
            (id_, paid_at, receipt, kind_, status, currency_, gift, fee, refunded, *rest) = row
            yield [
                str(id_),
                paid_at.isoformat(),
                receipt or "",
                str(kind_),
                str(status),
                currency_,
                money(gift),
                money(fee),
                money(refunded),
                *("" if v is None else str(v) for v in rest),
            ]
        return
    buckets = make_buckets(request.start, request.end, request.grouping, zone)
    if kind == "money":
        money_rows = money_by_bucket(session, buckets, zone)
        yield from table_rows(MONEY_COLUMNS, [*money_rows, money_total(money_rows)], money)
    elif kind == "movements":
        instants = movement_instants(buckets, now)
        movement_rows = movements(session, instants, [b.label for b in buckets], zone)
        yield from table_rows(MOVEMENT_COLUMNS, movement_rows, money)
    elif kind == "cohorts":
        cohort_rows = cohorts(session, request.start, request.end, zone, now)
        width = max((len(c.retained) for c in cohort_rows), default=0)
        yield ["Cohort", "Supporters", *(f"Month {k}" for k in range(width))]
        for c in cohort_rows:
            yield [c.label, str(c.size), *(str(n) for n in c.retained)]
    else:
        by = {"articles": "article", "variants": "variant", "issues": "issue"}[kind]
        funnel_rows = funnel(session, by, request.start, request.end, zone)
        yield from table_rows(FUNNEL_COLUMNS, funnel_rows, money)


def table_rows(
    columns: Sequence[Column], rows: Iterable[object], money: Callable[[int], str]
) -> Iterator[list[str]]:
    """A report table as text: its headings, then one line per row (`money` writes amounts)."""
    yield [column.title for column in columns]
    for row in rows:
        line = []
        for column in columns:
            value = column.value_of(row)
            if value is None:
                line.append("")
            else:
                line.append(money(value) if column.money else str(value))
        yield line


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
