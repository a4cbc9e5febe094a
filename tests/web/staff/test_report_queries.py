"""The recurring-support queries against a plain Python recomputation from the spans, on a
generated history where subscriptions pause, change amount and come back (several spans each),
for ranges that start after many of them began."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from membership.extensions import db
from membership.models import MrrSpan
from membership.services.history import HistorySpec, insert_history
from membership.services.reports.periods import make_buckets, movement_instants
from membership.services.reports.recurring import cohorts, movements

pytestmark = pytest.mark.usefixtures("app_context")

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2025, 10, 1), date(2025, 12, 31)), (date(2026, 3, 1), date(2026, 6, 30))],
)
def test_cohorts_and_movements_match_the_spans(first: date, last: date) -> None:
    zone = ZoneInfo("Europe/Berlin")
    insert_history(db.session(), HistorySpec(now=NOW, subscriptions=150, one_off=0, seed=11))
    db.session.commit()
    spans = list(db.session.scalars(select(MrrSpan)))
    by_sub: dict[int, list[MrrSpan]] = defaultdict(list)
    for s in spans:
        by_sub[s.subscription_id].append(s)
    assert any(len(v) > 1 for v in by_sub.values())

    def value(sub: int, at: datetime) -> int:
        return sum(
            s.mrr_cents
            for s in by_sub[sub]
            if s.starts_at <= at and (s.ends_at is None or s.ends_at > at)
        )

    months = make_buckets(first, last, "month", zone)
    rows = cohorts(db.session(), first, last, zone, NOW)
    ends = [min(m.ends, NOW) for m in months if m.starts <= NOW]
    for k, (month, row) in enumerate(zip(months, rows, strict=True)):
        members = [
            sub
            for sub, own in by_sub.items()
            if month.starts <= min(s.starts_at for s in own) < month.ends
        ]
        assert row.size == len(members)
        assert row.retained == [sum(1 for sub in members if value(sub, at) > 0) for at in ends[k:]]
    assert sum(r.size for r in rows) > 0

    instants = movement_instants(months, NOW)
    moved = movements(db.session(), instants, [m.label for m in months])
    for i, row in enumerate(moved):
        start, end = instants[i], instants[i + 1]
        new = churn = 0
        for sub, own in by_sub.items():
            before, after = value(sub, start), value(sub, end)
            if before == 0 and after > 0 and min(s.starts_at for s in own) > start:
                new += after
            if before > 0 and after == 0:
                churn += before
        assert (row.new_mrr, row.churn_mrr) == (new, churn)
        assert row.mrr_end == sum(value(sub, end) for sub in by_sub)
