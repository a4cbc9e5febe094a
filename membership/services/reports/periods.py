"""Report periods: local calendar days, weeks and months as UTC ranges, and their SQL tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, values
from sqlalchemy.sql import column
from sqlalchemy.sql.selectable import CTE

from membership.dates import first_of_month
from membership.models import UTCDateTime
from membership.services.errors import ServiceError

GROUPINGS = ("day", "week", "month")
# Longest range per grouping, so a report stays a report (and SQLite's VALUES stays small).
MAX_BUCKETS = 400


class ReportError(ServiceError):
    """The report cannot be made as asked; the message is for the staff member."""


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day(when: datetime, zone: ZoneInfo) -> date:
    """The local day whose [local_midnight(day), local_midnight(day + 1)) holds `when`: the
    reports' own boundaries, also where a midnight does not exist on the wall clock."""
    day = when.astimezone(zone).date()
    if when < local_midnight(day, zone):
        return day - timedelta(days=1)
    if when >= local_midnight(day + timedelta(days=1), zone):
        return day + timedelta(days=1)
    return day


@dataclass(frozen=True)
class Split:
    """A UTC range [starts, ends) as the whole local days first..last it covers (none when
    first > last) and the partial days at its edges, as UTC ranges."""

    first_day: date
    last_day: date
    edges: tuple[tuple[datetime, datetime], ...]

    @property
    def has_days(self) -> bool:
        return self.first_day <= self.last_day


def split_days(starts: datetime, ends: datetime, zone: ZoneInfo) -> Split:
    """Where the summary (whole days) and the raw rows (the edges) answer for [starts, ends)."""
    first = local_day(starts, zone)
    if local_midnight(first, zone) < starts:
        first += timedelta(days=1)
    last = local_day(ends, zone) - timedelta(days=1)
    if first > last:
        return Split(first, last, ((starts, ends),) if starts < ends else ())
    head, tail = local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
    edges = tuple((a, b) for a, b in ((starts, head), (tail, ends)) if a < b)
    return Split(first, last, edges)


def local_days(first_day: date, last_day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local dates first_day..last_day (inclusive) as the UTC range [starts, ends)."""
    return local_midnight(first_day, zone), local_midnight(last_day + timedelta(days=1), zone)


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
        starts, ends = local_days(first, last, zone)
        buckets.append(Bucket(len(buckets), first, last, starts, ends))
        if len(buckets) > MAX_BUCKETS:
            raise ReportError(
                f"That is more than {MAX_BUCKETS} rows: choose a shorter range or a longer grouping."
            )
        first = next_first
    return buckets


def movement_instants(buckets: Sequence[Bucket], now: datetime) -> list[datetime]:
    """Snapshot instants for the movements: each bucket's start and the last bucket's end,
    never later than now (the current period is measured so far)."""
    return [min(b.starts, now) for b in buckets] + [min(buckets[-1].ends, now)]


# The periods as SQL tables (VALUES common table expressions) the report queries join against.


def bucket_table(buckets: Sequence[Bucket], name: str = "buckets") -> CTE:
    """(idx, starts, ends) per bucket."""
    return ranges_table([(b.index, b.starts, b.ends) for b in buckets], name)


def periods_table(instants: Sequence[datetime], name: str = "periods") -> CTE:
    """Consecutive instants as periods (idx, starts, ends) = (i, T[i-1], T[i]) for i >= 1."""
    rows = [(i, instants[i - 1], instants[i]) for i in range(1, len(instants))]
    return ranges_table(rows, name)


def ranges_table(rows: list[tuple[int, datetime, datetime]], name: str) -> CTE:
    return (
        values(
            column("idx", Integer),
            column("starts", UTCDateTime()),
            column("ends", UTCDateTime()),
            name=name,
        )
        .data(rows)
        .cte(name)
    )


def day_ranges_table(rows: Sequence[tuple[int, date, date]], name: str = "day_ranges") -> CTE:
    """(idx, first_day, last_day) per range of whole local days."""
    return (
        values(
            column("idx", Integer),
            column("first_day", Date),
            column("last_day", Date),
            name=name,
        )
        .data(list(rows))
        .cte(name)
    )


def instant_table(instants: Sequence[datetime], name: str = "snapshots") -> CTE:
    """(idx, at) per instant."""
    return (
        values(column("idx", Integer), column("at", UTCDateTime()), name=name)
        .data(list(enumerate(instants)))
        .cte(name)
    )
