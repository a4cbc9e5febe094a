"""The daily summary the reports read: kept by every money writer in the transaction of the
change, equal to a rebuild from the raw rows, and giving the reports the figures of the raw rows
to the cent (partial days at the edges included), across DST changes and erasures."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from flask import Flask, current_app
from sqlalchemy import delete, select

from helpers.factories import make_supporter
from membership.extensions import db
from membership.models import (
    BillingInterval,
    DailyMrr,
    DailySummary,
    Donation,
    DonationKind,
    Subscription,
    SubscriptionStatus,
    SummaryZone,
)
from membership.payments.disputes import Dispute, DisputeFunds
from membership.payments.objects import Refund
from membership.services.history import HistorySpec, insert_history
from membership.services.ledger.charges import apply_dispute, apply_refunds
from membership.services.ledger.donations import record_donation
from membership.services.mrr import record_mrr
from membership.services.privacy import delete_account
from membership.services.reports import summary
from membership.services.reports.dashboard import dashboard
from membership.services.reports.periods import local_midnight
from membership.services.reports.range_report import ReportRequest, full_report

pytestmark = pytest.mark.usefixtures("app_context")

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
_ids = itertools.count(1)


def summary_rows(zone: ZoneInfo) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """The summary of `zone`, rows with nothing in them left out (a refund that failed leaves
    its row at zero)."""
    rows = {}
    for row in db.session.scalars(select(DailySummary).where(DailySummary.zone == zone.key)):
        figures = tuple(getattr(row, name) for name in summary.FIGURES)
        if any(figures):
            rows[(row.day, row.currency, row.kind, row.amount_cents)] = figures
    for mrr in db.session.scalars(select(DailyMrr).where(DailyMrr.zone == zone.key)):
        figures = tuple(getattr(mrr, name) for name in summary.MRR_FIGURES)
        if any(figures):
            rows[("mrr", mrr.day)] = figures
    return rows


def give(
    paid_at: datetime,
    amount: int,
    *,
    fee: int = 0,
    currency: str = "usd",
    kind: DonationKind = DonationKind.ONE_OFF,
    supporter_id: int | None = None,
) -> Donation:
    n = next(_ids)
    donation = record_donation(
        db.session(),
        {
            "amount_cents": amount,
            "fee_cents": fee,
            "currency": currency,
            "kind": kind,
            "paid_at": paid_at,
            "stripe_payment_intent_id": f"pi_summary_{n}",
            "stripe_charge_id": f"ch_summary_{n}",
            "supporter_id": supporter_id,
        },
        current_app.config["MEMBERSHIP"],
    )
    assert donation is not None
    return donation


def refund(donation: Donation, *refunds: tuple[str, int, str, datetime]) -> None:
    """Stripe's whole list of the charge's refunds: (id, amount, status, created)."""
    apply_refunds(
        db.session(),
        charge_id=donation.stripe_charge_id or "",
        payment_intent_id=None,
        refunds=[
            Refund(rid, status, amount, donation.stripe_charge_id, None, created, None)
            for rid, amount, status, created in refunds
        ],
        config=current_app.config["MEMBERSHIP"],
        now=datetime.now(UTC),
    )


def dispute(
    donation: Donation, status: str, created: datetime, *funds: tuple[str, int, int, datetime]
) -> None:
    """A dispute as Stripe has it, with its balance transactions (id, amount, fee, created)."""
    apply_dispute(
        db.session(),
        Dispute(
            id=f"dp_{donation.id}",
            charge_id=donation.stripe_charge_id,
            payment_intent_id=None,
            amount=donation.total_cents,
            currency=donation.currency,
            status=status,
            reason="fraudulent",
            created=created,
            evidence_due_by=None,
            funds=tuple(DisputeFunds(fid, amount, fee, when) for fid, amount, fee, when in funds),
            charge_refundable=False,
        ),
        config=current_app.config["MEMBERSHIP"],
        now=created,
    )


def ny(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return local_midnight(day, NEW_YORK) + timedelta(hours=hour, minutes=minute)


def make_history(app: Flask) -> None:
    """Gifts through the webhook writers around New York's DST changes and local midnights,
    in two currencies, with partial and full refunds (one failing later), disputes won and
    lost, a generated year in bulk, and an erased supporter."""
    session = db.session()
    # First a year generated in bulk (the demo seed's way: it rebuilds the kept zones), then
    # each change through its writer.
    insert_history(
        session,
        HistorySpec(now=ny(date(2026, 12, 15), 10), subscriptions=30, one_off=300, seed=3),
    )
    session.commit()
    supporter = make_supporter("erase-me@example.org")
    edges = [
        ny(date(2026, 3, 1)),  # a month's first instant
        ny(date(2026, 3, 1)) - timedelta(microseconds=1),  # the last of February
        ny(date(2026, 3, 8), 1, 59),  # just before the spring-forward gap
        ny(date(2026, 3, 8), 3, 0),
        ny(date(2026, 3, 8)) + timedelta(hours=23),  # the 23-hour day's last hour
        ny(date(2026, 3, 31), 23, 59),
        ny(date(2026, 11, 1), 1, 30),  # the hour that happens twice
        ny(date(2026, 11, 1), 2, 30),
        ny(date(2026, 11, 1)) + timedelta(hours=24, minutes=30),  # the 25-hour day's last hour
        ny(date(2026, 11, 2)),
    ]
    donations = []
    for i, when in enumerate(edges):
        donations.append(
            give(
                when,
                [500, 1000, 2500][i % 3],
                fee=[0, 33, 75][i % 3],
                currency="eur" if i % 4 == 3 else "usd",
                kind=DonationKind.RECURRING if i % 2 else DonationKind.ONE_OFF,
                supporter_id=supporter.id if i < 4 else None,
            )
        )
    first, second, third, fourth, fifth, sixth = donations[:6]
    # A partial refund, then a second one a month later.
    refund(first, ("re_1", 100, "succeeded", ny(date(2026, 3, 2), 9)))
    refund(
        first,
        ("re_1", 100, "succeeded", ny(date(2026, 3, 2), 9)),
        ("re_2", 200, "pending", ny(date(2026, 4, 1), 0, 1)),
    )
    # A pending refund that fails: it stops counting.
    refund(second, ("re_3", second.total_cents, "pending", ny(date(2026, 3, 8), 23, 30)))
    refund(second, ("re_3", second.total_cents, "failed", ny(date(2026, 3, 8), 23, 30)))
    # A full refund on the day of the DST change in autumn.
    refund(third, ("re_4", third.total_cents, "succeeded", ny(date(2026, 11, 1), 1, 45)))
    # A dispute lost (withdrawn), one won (withdrawn then reinstated, fee returned), an inquiry.
    dispute(fourth, "needs_response", ny(date(2026, 3, 9)))
    dispute(
        fourth,
        "lost",
        ny(date(2026, 3, 9)),
        ("txn_1", -fourth.total_cents, 1500, ny(date(2026, 3, 10), 12)),
    )
    dispute(
        fifth,
        "won",
        ny(date(2026, 3, 31), 22),
        ("txn_2", -fifth.total_cents, 1500, ny(date(2026, 3, 31), 23, 30)),
        ("txn_3", fifth.total_cents, -1500, ny(date(2026, 4, 20), 8)),
    )
    dispute(sixth, "warning_needs_response", ny(date(2026, 4, 2)))
    # A subscription through the MRR writer: started, raised, made annual, cancelled, each
    # on an edge (the spring-forward night, a month's last minutes, the repeated hour).
    sub = Subscription(
        stripe_subscription_id="sub_summary",
        amount_cents=1000,
        currency="usd",
        interval=BillingInterval.MONTH,
        status=SubscriptionStatus.ACTIVE,
        started_at=ny(date(2026, 3, 8), 1, 0),
    )
    session.add(sub)
    session.flush()
    record_mrr(session, sub, sub.started_at)
    sub.amount_cents = 2500
    record_mrr(session, sub, ny(date(2026, 3, 31), 23, 50))
    sub.amount_cents, sub.interval = 12000, BillingInterval.YEAR
    record_mrr(session, sub, ny(date(2026, 11, 1), 1, 30))
    sub.status, sub.ended_at = SubscriptionStatus.CANCELED, ny(date(2026, 11, 2), 0, 0)
    record_mrr(session, sub, ny(date(2026, 11, 2), 9))
    session.commit()
    # The supporter erased: the money stays.
    delete_account(session, app.extensions["stripe_gateway"], supporter, now=datetime.now(UTC))
    session.commit()


def test_the_kept_summary_equals_a_rebuild_from_the_raw_rows(app: Flask) -> None:
    # Kept for two zones at once: the writers add to both.
    summary.rebuild(db.session(), NEW_YORK)
    summary.rebuild(db.session(), BERLIN)
    db.session.commit()
    make_history(app)
    kept = {zone.key: summary_rows(zone) for zone in (NEW_YORK, BERLIN)}
    assert len(kept["America/New_York"]) > 100
    for zone in (NEW_YORK, BERLIN):
        summary.rebuild(db.session(), zone)
        db.session.commit()
        assert summary_rows(zone) == kept[zone.key]
        summary.rebuild(db.session(), zone)  # idempotent
        db.session.commit()
        assert summary_rows(zone) == kept[zone.key]
    ny_rows = kept["America/New_York"]
    # The refund that failed counts nothing; the won dispute nets to zero across its movements.
    assert sum(f[2] for f in ny_rows.values()) > 0
    assert sum(f[3] for f in ny_rows.values()) > 0
    # Days are New York's: the last microsecond of February is in February.
    assert any(day == date(2026, 2, 28) for day, *_ in ny_rows)


def test_the_rebuild_command_fills_the_summary(app: Flask) -> None:
    make_history(app)
    assert db.session.scalar(select(SummaryZone)) is None
    assert summary_rows(NEW_YORK) == {}
    runner = app.test_cli_runner()
    result: Result = runner.invoke(args=["reports", "rebuild-summary", "--zone", NEW_YORK.key])
    assert result.exit_code == 0, result.output
    assert "America/New_York" in result.output
    built = summary_rows(NEW_YORK)
    assert built
    again = runner.invoke(args=["reports", "rebuild-summary", "--zone", NEW_YORK.key])
    assert again.exit_code == 0, again.output
    db.session.expire_all()
    assert summary_rows(NEW_YORK) == built
    bad = runner.invoke(args=["reports", "rebuild-summary", "--zone", "Mars/Olympus"])
    assert bad.exit_code != 0


def reports_now(now: datetime) -> dict[str, Any]:
    db.session.expire_all()
    return {
        request: dataclasses.asdict(full_report(db.session(), request, NEW_YORK, now))
        for request in (
            ReportRequest(date(2026, 1, 1), date(2026, 12, 31), "month"),
            ReportRequest(date(2026, 3, 1), date(2026, 3, 31), "day"),
            ReportRequest(date(2026, 10, 26), date(2026, 11, 8), "week"),
        )
    } | {"dashboard": dataclasses.asdict(dashboard(db.session(), NEW_YORK, now))}


@pytest.mark.parametrize(
    "now",
    [
        ny(date(2026, 3, 31), 23, 45),  # late on a month's last day: last month was shorter
        ny(date(2026, 4, 1), 0, 1),  # a minute into the month
        ny(date(2026, 11, 1), 1, 40),  # in the hour that happens twice
        ny(date(2026, 12, 15), 10),
    ],
)
def test_reports_read_from_the_summary_give_the_raw_figures(app: Flask, now: datetime) -> None:
    summary.rebuild(db.session(), NEW_YORK)
    db.session.commit()
    make_history(app)
    from_summary = reports_now(now)
    db.session.execute(delete(SummaryZone))
    db.session.commit()
    from_raw = reports_now(now)
    assert from_raw["dashboard"]["this_month"]["donations"] >= 0
    assert from_summary == from_raw


def test_the_reports_read_whole_days_from_the_summary(app: Flask) -> None:
    """Proof that the summary is read (the test above would pass if it never were): money put
    into a summary row of a whole day shows in the report; none of the raw rows changed."""
    summary.rebuild(db.session(), NEW_YORK)
    db.session.commit()
    give(ny(date(2026, 3, 10), 12), 1000, fee=40)
    db.session.commit()
    request = ReportRequest(date(2026, 3, 1), date(2026, 3, 31), "month")
    before = full_report(db.session(), request, NEW_YORK, ny(date(2026, 6, 1)))
    assert before.total.fees == 40
    row = db.session.scalars(select(DailySummary)).one()
    row.fees_cents += 7
    db.session.commit()
    after = full_report(db.session(), request, NEW_YORK, ny(date(2026, 6, 1)))
    assert after.total.fees == 47
    # Asked in a zone the summary is not kept for, the report reads the raw rows.
    berlin = full_report(db.session(), request, BERLIN, ny(date(2026, 6, 1)))
    assert berlin.total.fees == 40
