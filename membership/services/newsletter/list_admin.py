"""Staff tools for the newsletter list: search and filters, counts, growth, the streamed CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from membership.csv_export import csv_chunks
from membership.dates import first_of_month
from membership.models import (
    ConsentEvent,
    ConsentKind,
    EmailSuppression,
    StaffMember,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from membership.services.newsletter.consent import ConsentHistoryLine, consent_history
from membership.services.staff import audit
from membership.services.supporters import normalize_email

_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")

# --- the list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    query: str = ""
    status: SubscriberStatus | None = None
    # A source kind ("article", "footer", "import") or an exact source ("import:list.csv").
    source: str = ""


def _filtered(stmt: _S, filters: ListFilter) -> _S:
    if filters.query:
        stmt = stmt.where(
            Subscriber.email.contains(normalize_email(filters.query), autoescape=True)
        )
    if filters.status is not None:
        stmt = stmt.where(Subscriber.status == filters.status)
    if filters.source:
        stmt = stmt.where(
            (Subscriber.source == filters.source)
            | Subscriber.source.startswith(f"{filters.source}:", autoescape=True)
        )
    return stmt


@dataclass(frozen=True)
class SubscriberPage:
    rows: list[Subscriber]
    total: int
    page: int
    pages: int
    # Address -> why it is never mailed (bounce, complaint), for the rows on this page.
    suppressed: dict[str, str] = field(default_factory=dict)


def list_subscribers(
    session: Session, filters: ListFilter, *, actor: StaffMember, page: int = 1, per_page: int = 50
) -> SubscriberPage:
    """A page of the list for a staff member (audited: it shows addresses)."""
    audit.record(
        session,
        actor,
        "newsletter.listed",
        target_type="newsletter",
        details={"filters": _filter_details(filters), "page": page},
    )
    total = session.scalar(_filtered(select(func.count()).select_from(Subscriber), filters)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        _filtered(select(Subscriber), filters)
        .order_by(Subscriber.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    suppressed = dict(
        session.execute(
            select(EmailSuppression.address, EmailSuppression.reason).where(
                EmailSuppression.address.in_([row.email for row in rows])
            )
        ).all()
    )
    return SubscriberPage(list(rows), total, page, pages, suppressed)


def status_counts(session: Session) -> dict[SubscriberStatus, int]:
    counts = dict(
        session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status)).all()
    )
    return {status: counts.get(status, 0) for status in SubscriberStatus}


def source_choices(session: Session, limit: int = 30) -> list[str]:
    """Source kinds first, then the most common exact sources."""
    common = session.scalars(
        select(Subscriber.source)
        .where(Subscriber.source != "")
        .group_by(Subscriber.source)
        .order_by(func.count().desc(), Subscriber.source)
        .limit(limit)
    ).all()
    kinds = sorted({source.partition(":")[0] for source in common})
    return kinds + [source for source in common if source not in kinds]


@dataclass(frozen=True)
class GrowthMonth:
    month: str  # "2026-11"
    joined: int
    left: int

    @property
    def net(self) -> int:
        return self.joined - self.left


def growth_by_month(
    session: Session, *, months: int = 12, now: datetime | None = None
) -> list[GrowthMonth]:
    """Joins (confirmations, returns, imports) and leaves per calendar month (UTC), oldest first."""
    first = first_of_month((now or utcnow()).date(), -(months - 1))
    keys = [f"{first_of_month(first, n):%Y-%m}" for n in range(months)]
    since = datetime(first.year, first.month, 1, tzinfo=UTC)
    if session.get_bind().dialect.name == "postgresql":
        bucket = func.to_char(func.timezone("UTC", ConsentEvent.occurred_at), "YYYY-MM")
    else:
        bucket = func.strftime("%Y-%m", ConsentEvent.occurred_at)
    joined_kinds = (ConsentKind.CONFIRM, ConsentKind.RESUBSCRIBE, ConsentKind.IMPORT)
    counts: dict[tuple[str, bool], int] = {}
    rows = session.execute(
        select(bucket, ConsentEvent.kind, func.count())
        .where(
            ConsentEvent.occurred_at >= since,
            ConsentEvent.kind.in_((*joined_kinds, ConsentKind.UNSUBSCRIBE)),
        )
        .group_by(bucket, ConsentEvent.kind)
    ).all()
    for key, kind, number in rows:
        joined = kind in joined_kinds
        counts[(key, joined)] = counts.get((key, joined), 0) + number
    return [
        GrowthMonth(key, counts.get((key, True), 0), counts.get((key, False), 0)) for key in keys
    ]


# --- export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "email",
    "status",
    "source",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "supporter_id",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _filter_details(filters: ListFilter) -> dict[str, str]:
    status = filters.status.value if filters.status is not None else ""
    return {"query": filters.query, "status": status, "source": filters.source}


def export_for_staff(session: Session, actor: StaffMember, filters: ListFilter) -> Iterator[str]:
    """The export a staff member downloads: audited (flushed, for the caller to commit before
    the first byte), then streamed."""
    audit.record(
        session,
        actor,
        "newsletter.exported",
        target_type="newsletter",
        details={"filters": _filter_details(filters)},
    )
    return export_csv(session, filters)


def subscriber_record(
    session: Session, actor: StaffMember, subscriber: Subscriber
) -> list[ConsentHistoryLine]:
    """One subscriber's consent history, for a staff member (audited)."""
    audit.record(
        session, actor, "subscriber.viewed", target_type="subscriber", target_id=subscriber.id
    )
    return consent_history(session, subscriber.id)


def export_csv(
    session: Session, filters: ListFilter = ListFilter(), *, batch: int = 1000
) -> Iterator[str]:
    """The list as CSV, streamed a row at a time from batches of rows: memory stays flat however
    long the list."""
    return csv_chunks(_export_rows(session, filters, batch))


def _export_rows(session: Session, filters: ListFilter, batch: int) -> Iterator[list[str]]:
    yield list(EXPORT_COLUMNS)
    after = 0
    while True:
        rows = session.execute(
            _filtered(
                select(
                    Subscriber.id,
                    Subscriber.email,
                    Subscriber.status,
                    Subscriber.source,
                    Subscriber.created_at,
                    Subscriber.confirmed_at,
                    Subscriber.unsubscribed_at,
                    Subscriber.supporter_id,
                ),
                filters,
            )
            .where(Subscriber.id > after)
            .order_by(Subscriber.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for _, email, status, source, created, confirmed, unsubscribed, supporter in rows:
            yield [
                _cell(email),
                status.value,
                _cell(source),
                _cell(created),
                _cell(confirmed),
                _cell(unsubscribed),
                _cell(supporter),
            ]
        # Plain rows, not ORM objects: nothing accumulates in the session between batches.
        after = rows[-1][0]
