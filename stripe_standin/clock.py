"""The stand-in's time: the current second and calendar-month arithmetic for billing periods.

The stand-in keeps its own month arithmetic: it must not import the membership service it simulates for.
"""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime

# A recurring price's interval -> the calendar months one period lasts.
INTERVAL_MONTHS = {"month": 1, "year": 12}


def now() -> int:
    return int(time.time())


def add_months(ts: int, months: int) -> int:
    """Add calendar months to a UTC timestamp, clamping the day to the month's end."""
    dt = datetime.fromtimestamp(ts, UTC)
    index = dt.month - 1 + months
    year, month = dt.year + index // 12, index % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())
