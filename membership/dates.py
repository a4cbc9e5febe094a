"""Calendar arithmetic shared by reports, recurring gifts and the demo history."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime
from typing import TypeVar

When = TypeVar("When", date, datetime)


def add_months(when: When, months: int) -> When:
    """The same day `months` calendar months later (or earlier), clamped to the month's last day:
    31 January + 1 month is 28 or 29 February. Time of day and zone are kept."""
    index = when.year * 12 + when.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return when.replace(year=year, month=month, day=min(when.day, monthrange(year, month)[1]))


def first_of_month(day: date, months_later: int = 0) -> date:
    """The first day of the month `months_later` months after the month of `day`."""
    return add_months(day.replace(day=1), months_later)
