"""The API's collections: filters, opaque cursors and pages.

Pages are in id order and a cursor is "after this id", so rows added while a client pages
(new gifts) land after the cursor: no row is skipped or repeated. A sync keeps the time it
started and asks for `updated_since` that time on its next run, which also brings rows that
changed (a refund) behind its cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from membership.models import (
    BannerVariant,
    ConsentEvent,
    Donation,
    DonationRefund,
    Subscriber,
    Subscription,
    Supporter,
)
from membership.services.integrations.representations import (
    DONATION,
    MONEY_PERIOD,
    SUBSCRIBER,
    SUBSCRIPTION,
    SUPPORTER,
    VARIANT,
    DonationView,
    MoneyPeriod,
    Representation,
    SubscriberView,
)
from membership.services.reports.money import money_by_bucket
from membership.services.reports.periods import GROUPINGS, ReportError, make_buckets

MAX_PAGE = 500
DEFAULT_PAGE = 100
MAX_REPORT_DAYS = 3 * 366


class ApiInputError(ValueError):
    """A query parameter we cannot use; the message names it."""


@dataclass(frozen=True)
class Collection:
    """One list endpoint: its rows, filters, scope and representation."""

    name: str
    summary: str
    scope: str
    model: Any
    representation: Representation[Any]
    updated_column: InstrumentedAttribute[Any] | None
    date_column: InstrumentedAttribute[Any] | None
    date_name: str
    statuses: tuple[str, ...]
    status_column: InstrumentedAttribute[Any] | None
    views: Callable[[Session, Sequence[Any]], list[Any]]


@dataclass(frozen=True)
class PageQuery:
    limit: int = DEFAULT_PAGE
    after_id: int = 0
    updated_since: datetime | None = None
    status: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _donation_views(session: Session, rows: Sequence[Donation]) -> list[DonationView]:
    refunds: dict[int, list[DonationRefund]] = {}
    if rows:
        for refund in session.scalars(
            select(DonationRefund)
            .where(DonationRefund.donation_id.in_([row.id for row in rows]))
            .order_by(DonationRefund.id)
        ):
            refunds.setdefault(refund.donation_id, []).append(refund)
    return [DonationView(row, refunds.get(row.id, [])) for row in rows]


def _subscriber_views(session: Session, rows: Sequence[Subscriber]) -> list[SubscriberView]:
    consent: dict[int, list[ConsentEvent]] = {}
    if rows:
        for event in session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.subscriber_id.in_([row.id for row in rows]))
            .order_by(ConsentEvent.id)
        ):
            consent.setdefault(event.subscriber_id, []).append(event)
    return [SubscriberView(row, consent.get(row.id, [])) for row in rows]


def _as_is(session: Session, rows: Sequence[Any]) -> list[Any]:
    return list(rows)


COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "supporters",
        "Supporters (people who gave)",
        "supporters:read",
        Supporter,
        SUPPORTER,
        Supporter.updated_at,
        Supporter.created_at,
        "created_at",
        ("active", "erased"),
        None,
        _as_is,
    ),
    Collection(
        "donations",
        "Donations, with their refunds and disputes",
        "donations:read",
        Donation,
        DONATION,
        Donation.updated_at,
        Donation.paid_at,
        "paid_at",
        ("succeeded", "refunded", "partially_refunded", "disputed", "failed"),
        Donation.status,
        _donation_views,
    ),
    Collection(
        "subscriptions",
        "Recurring gifts",
        "donations:read",
        Subscription,
        SUBSCRIPTION,
        Subscription.updated_at,
        Subscription.started_at,
        "started_at",
        (
            "incomplete",
            "incomplete_expired",
            "trialing",
            "active",
            "past_due",
            "unpaid",
            "canceled",
            "paused",
        ),
        Subscription.status,
        _as_is,
    ),
    Collection(
        "newsletter/subscribers",
        "Newsletter subscribers with their consent history",
        "newsletter:read",
        Subscriber,
        SUBSCRIBER,
        Subscriber.updated_at,
        Subscriber.created_at,
        "created_at",
        ("pending", "confirmed", "unsubscribed"),
        Subscriber.status,
        _subscriber_views,
    ),
    Collection(
        "banner-variants",
        "Banner variants (the appeals donations are attributed to)",
        "reports:read",
        BannerVariant,
        VARIANT,
        BannerVariant.updated_at,
        BannerVariant.created_at,
        "created_at",
        ("active", "stopped"),
        None,
        _as_is,
    ),
)


def encode_cursor(after_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ApiInputError("cursor: not a cursor this API gave out") from None
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise ApiInputError("cursor: not a cursor this API gave out")
    return after


def parse_time(name: str, text: str) -> datetime:
    """ISO 8601 date or date-time; a time without an offset is taken as UTC."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiInputError(
            f"{name}: give an ISO 8601 time like 2026-11-01T00:00:00Z, not {text[:40]!r}"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_page_query(collection: Collection, args: Mapping[str, str]) -> PageQuery:
    limit_text = args.get("limit", str(DEFAULT_PAGE))
    if not limit_text.isdecimal() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise ApiInputError(f"limit: a whole number from 1 to {MAX_PAGE}")
    status = args.get("status") or None
    if status is not None and status not in collection.statuses:
        raise ApiInputError(f"status: one of {', '.join(collection.statuses)}")
    cursor = args.get("cursor")
    query = PageQuery(
        limit=int(limit_text),
        after_id=decode_cursor(cursor) if cursor else 0,
        updated_since=parse_time("updated_since", args["updated_since"])
        if args.get("updated_since")
        else None,
        status=status,
        date_from=parse_time("from", args["from"]) if args.get("from") else None,
        date_to=parse_time("to", args["to"]) if args.get("to") else None,
    )
    if query.date_from and query.date_to and query.date_to < query.date_from:
        raise ApiInputError("to: before from")
    return query


def _status_filter(collection: Collection, status: str) -> Any:
    if collection.status_column is not None:
        return collection.status_column == status
    if collection.model is Supporter:
        return (
            Supporter.erased_at.is_(None)
            if status == "active"
            else Supporter.erased_at.is_not(None)
        )
    return BannerVariant.active.is_(status == "active")


def page(session: Session, collection: Collection, query: PageQuery) -> Page:
    model = collection.model
    stmt = select(model).where(model.id > query.after_id)
    if query.updated_since is not None and collection.updated_column is not None:
        stmt = stmt.where(collection.updated_column >= query.updated_since)
    if query.status is not None:
        stmt = stmt.where(_status_filter(collection, query.status))
    if query.date_from is not None and collection.date_column is not None:
        stmt = stmt.where(collection.date_column >= query.date_from)
    if query.date_to is not None and collection.date_column is not None:
        stmt = stmt.where(collection.date_column < query.date_to)
    rows = list(session.scalars(stmt.order_by(model.id).limit(query.limit + 1)))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [collection.representation.dump(view) for view in collection.views(session, rows)]
    return Page(items, encode_cursor(rows[-1].id) if more and rows else None)


def money_report(
    session: Session, args: Mapping[str, str], *, zone: Any, currency: str
) -> list[dict[str, Any]]:
    """The money figures by day, week or month over local dates start..end (inclusive)."""
    try:
        start = date.fromisoformat(args.get("start", ""))
        end = date.fromisoformat(args.get("end", ""))
    except ValueError:
        raise ApiInputError("start, end: give local dates like 2026-01-01") from None
    group = args.get("group", "month")
    if group not in GROUPINGS:
        raise ApiInputError(f"group: one of {', '.join(GROUPINGS)}")
    if end - start > timedelta(days=MAX_REPORT_DAYS):
        raise ApiInputError(f"end: at most {MAX_REPORT_DAYS} days after start")
    try:
        buckets = make_buckets(start, end, group, zone)
    except ReportError as error:
        raise ApiInputError(str(error)) from None
    rows = money_by_bucket(session, buckets, zone)
    return [
        MONEY_PERIOD.dump(MoneyPeriod(bucket, row, currency))
        for bucket, row in zip(buckets, rows, strict=True)
    ]
