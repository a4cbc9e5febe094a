"""The generated history: the demo seed is idempotent, the SQL reports agree with a plain Python
recomputation of the same rows, and SQLite and PostgreSQL give the same numbers to the cent."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpers.factories import count
from membership import create_app
from membership.extensions import db
from membership.models import (
    Article,
    ArticleStatus,
    BannerVariant,
    Donation,
    DonationRefund,
    DonationStatus,
    MrrSpan,
    Subscription,
    SubscriptionStatus,
)
from membership.services.demo import seed_demo
from membership.services.history import HistorySpec, insert_history
from membership.services.reports.dashboard import dashboard
from membership.services.reports.range_report import ReportRequest, full_report

pytestmark = pytest.mark.usefixtures("app_context")

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
REQUEST = ReportRequest(date(2025, 7, 1), date(2026, 6, 30), "month")


def test_demo_seed_adds_a_year_of_history_once() -> None:
    first = seed_demo(db.session(), now=NOW)
    db.session.commit()
    donations = count(Donation)
    assert first.donations_added == donations > 3000
    assert count(DonationRefund) > 10
    assert db.session.scalar(select(func.count()).where(Donation.dispute_id.is_not(None))) >= 1
    assert (
        db.session.scalar(
            select(func.count()).where(Subscription.status == SubscriptionStatus.CANCELED)
        )
        > 10
    )
    second = seed_demo(db.session(), now=NOW + timedelta(days=1))
    db.session.commit()
    assert second.donations_added == 0
    assert count(Donation) == donations
    board = dashboard(db.session(), BERLIN, NOW)
    assert board.mrr > 0 and board.this_month.gross > 0 and board.active_recurring > 50


def make_history(session: Session, seed: int = 11) -> None:
    """Two articles and two variants with fixed ids, then the generated history."""
    for i in (1, 2):
        session.add(
            Article(
                id=900 + i,
                slug=f"fixed-{i}",
                title=f"Fixed {i}",
                status=ArticleStatus.PUBLISHED,
                published_at=NOW - timedelta(days=400),
            )
        )
        session.add(
            BannerVariant(
                id=800 + i, name=f"fixed-{i}", headline="H", body="B", amounts={"once": [100]}
            )
        )
    session.flush()
    insert_history(
        session,
        HistorySpec(
            now=NOW,
            subscriptions=120,
            one_off=900,
            seed=seed,
            article_ids=[901, 902],
            variant_ids=[801, 802],
        ),
    )
    session.commit()


def test_reports_agree_with_a_python_recomputation() -> None:
    make_history(db.session())
    report = full_report(db.session(), REQUEST, BERLIN, NOW)
    months = report.buckets

    def bucket_of(when: datetime) -> int | None:
        for b in months:
            if b.starts <= when < b.ends:
                return b.index
        return None

    gross = [0] * len(months)
    fees = [0] * len(months)
    refunds = [0] * len(months)
    disputes = [0] * len(months)
    for d in db.session.scalars(select(Donation)):
        index = bucket_of(d.paid_at)
        if index is not None and d.status is not DonationStatus.FAILED:
            gross[index] += d.amount_cents + d.fee_cents
            fees[index] += d.fee_cents
        if d.disputed_at and d.dispute_status != "won":
            index = bucket_of(d.disputed_at)
            if index is not None:
                disputes[index] += d.total_cents - d.refunded_cents
    for r in db.session.scalars(select(DonationRefund)):
        index = bucket_of(r.refunded_at)
        if index is not None:
            refunds[index] += r.amount_cents
    assert [m.gross for m in report.money] == gross
    assert [m.fees for m in report.money] == fees
    assert [m.refunds for m in report.money] == refunds
    assert [m.disputes for m in report.money] == disputes
    assert sum(refunds) > 0 and sum(disputes) >= 0
    spans = list(db.session.scalars(select(MrrSpan)))
    for row, bucket in zip(report.movements, months, strict=True):
        at = min(bucket.ends, NOW)
        open_then = [
            s for s in spans if s.starts_at <= at and (s.ends_at is None or s.ends_at > at)
        ]
        assert row.mrr_end == sum(s.mrr_cents for s in open_then)
        assert row.active_end == len({s.subscription_id for s in open_then})
        # Movements add up: start + new + expansion + reactivation - contraction - churn = end.
        assert row.mrr_end == (
            row.mrr_start
            + row.new_mrr
            + row.expansion_mrr
            + row.reactivation_mrr
            - row.contraction_mrr
            - row.churn_mrr
        )
    assert sum(r.churn_count for r in report.movements) > 0
    assert sum(c.size for c in report.cohorts) > 0


def report_on(app: Flask) -> dict[str, Any]:
    with app.app_context():
        make_history(db.session())
        report = full_report(db.session(), REQUEST, BERLIN, NOW)
        board = dashboard(db.session(), BERLIN, NOW)
        result = {"report": dataclasses.asdict(report), "dashboard": dataclasses.asdict(board)}
        db.session.remove()
    return result


def test_sqlite_and_postgresql_give_the_same_numbers(app: Flask, tmp_path: Path) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("compares against PostgreSQL: runs in the PostgreSQL pass (TEST_DATABASE_URL)")
    sqlite_app = create_app(
        app.config["MEMBERSHIP"].with_overrides(
            database_url=f"sqlite:///{tmp_path / 'compare.sqlite3'}",
            instance_path=str(tmp_path / "instance"),
        )
    )
    with sqlite_app.app_context():
        upgrade()
    try:
        on_sqlite = report_on(sqlite_app)
    finally:
        sqlite_app.extensions["stripe_gateway"].close()
        with sqlite_app.app_context():
            db.engine.dispose()
    on_postgres = report_on(app)
    assert on_postgres["report"]["total"]["gross"] > 0
    assert on_postgres == on_sqlite
