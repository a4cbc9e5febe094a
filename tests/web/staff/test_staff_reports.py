"""Every dashboard and report figure against a small data set computed by hand.

The newsroom is in New York (EST, UTC-5; EDT, UTC-4 from 8 March 2026). The data set has gifts on
both sides of local month boundaries, refunds and a partial refund in later months, a dispute
opened a month after the gift, a won dispute, a failed payment, a paused subscription that
resumes, a cancellation, an upgrade, a downgrade and an annual gift whose monthly share needs
rounding. The expected numbers in this file were worked out on paper (see the comments).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from helpers.exports import export_report_query
from helpers.factories import make_article, make_variant
from helpers.staff import make_staff, sign_in_staff
from membership.extensions import db
from membership.models import (
    AuditEntry,
    BannerStat,
    BillingInterval,
    DisputeMovement,
    Donation,
    DonationIntent,
    DonationKind,
    DonationRefund,
    DonationStatus,
    Frequency,
    IntentStatus,
    StaffRole,
    Subscription,
    SubscriptionStatus,
    Supporter,
)
from membership.services.mrr import monthly_cents, record_mrr
from membership.services.reports.attribution import FunnelRow
from membership.services.reports.dashboard import dashboard
from membership.services.reports.money import GiftStats, MoneyRow, money_by_bucket
from membership.services.reports.periods import make_buckets
from membership.services.reports.range_report import ReportRequest, full_report
from membership.services.reports.recurring import MovementRow
from membership.services.reports.statistics import rate_with_interval, wilson_interval
from membership.services.staff.supporters import refundable_cents

pytestmark = pytest.mark.usefixtures("app_context")

NY = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Books:
    """Builds the data set through the models (and services.mrr for the MRR spans)."""

    def __init__(self) -> None:
        self.supporter = Supporter(email="a@example.org", name="A")
        db.session.add(self.supporter)
        db.session.flush()
        self.n = 0

    def give(
        self,
        paid_at: str,
        amount: int,
        fee: int = 0,
        *,
        kind: DonationKind = DonationKind.ONE_OFF,
        subscription: Subscription | None = None,
        **fields: Any,
    ) -> Donation:
        self.n += 1
        donation = Donation(
            amount_cents=amount,
            fee_cents=fee,
            currency="usd",
            kind=DonationKind.RECURRING if subscription else kind,
            status=fields.pop("status", DonationStatus.SUCCEEDED),
            refunded_cents=0,
            stripe_payment_intent_id=f"pi_{self.n}",
            supporter_id=self.supporter.id,
            subscription_id=subscription.id if subscription else None,
            source_article_id=fields.pop("article", None),
            variant_id=fields.pop("variant", None),
            paid_at=utc(paid_at),
            **fields,
        )
        db.session.add(donation)
        db.session.flush()
        return donation

    def refund(self, donation: Donation, amount: int, when: str) -> None:
        donation.refunded_cents += amount
        donation.status = (
            DonationStatus.REFUNDED
            if donation.refunded_cents == donation.total_cents
            else DonationStatus.PARTIALLY_REFUNDED
        )
        db.session.add(
            DonationRefund(donation_id=donation.id, amount_cents=amount, refunded_at=utc(when))
        )
        db.session.flush()

    def dispute(
        self, donation: Donation, status: str, *moves: tuple[int, int, str], opened: str
    ) -> None:
        """A dispute and the money it moved: (amount withdrawn, or negative reinstated; fee;
        when)."""
        donation.dispute_id, donation.dispute_status = f"dp_{donation.id}", status
        donation.disputed_at = utc(opened)
        for n, (amount, fee, when) in enumerate(moves):
            db.session.add(
                DisputeMovement(
                    donation_id=donation.id,
                    stripe_dispute_id=donation.dispute_id,
                    stripe_balance_transaction_id=f"txn_{donation.id}_{n}",
                    amount_cents=amount,
                    fee_cents=fee,
                    moved_at=utc(when),
                )
            )
        db.session.flush()

    def subscribe(
        self, started: str, total: int, fee: int = 0, interval: str = "month"
    ) -> Subscription:
        self.n += 1
        sub = Subscription(
            stripe_subscription_id=f"sub_{self.n}",
            supporter_id=self.supporter.id,
            amount_cents=total,
            fee_cents=fee,
            currency="usd",
            interval=BillingInterval(interval),
            status=SubscriptionStatus.ACTIVE,
            started_at=utc(started),
        )
        db.session.add(sub)
        db.session.flush()
        record_mrr(db.session(), sub, utc(started))
        return sub

    def change(self, sub: Subscription, when: str, **state: Any) -> None:
        for name, value in state.items():
            setattr(sub, name, value)
        db.session.flush()
        record_mrr(db.session(), sub, utc(when))


@pytest.fixture
def books(app: Flask) -> dict[str, Any]:
    b = Books()
    river, other = make_article(slug="river"), make_article(slug="other")
    v1, v2 = make_variant("v1"), make_variant("v2")
    # One-off gifts.
    d1 = b.give("2026-01-15T12:00", 1000, 59, article=river.id, variant=v1.id)
    # Won: the money (and Stripe's fee) went in January, the money came back in February.
    b.dispute(
        d1,
        "won",
        (1059, 1500, "2026-01-25T10:00"),
        (-1059, 0, "2026-02-20T12:00"),
        opened="2026-01-25T10:00",
    )
    b.give("2026-02-01T04:30", 500)  # 23:30 on 31 January in New York: January
    d3 = b.give("2026-02-01T05:00", 2000, article=other.id, variant=v2.id)  # midnight: February
    b.refund(d3, 700, "2026-02-10T12:00")  # partial, in February
    b.refund(d3, 300, "2026-03-05T12:00")  # the rest of the partial refund, in March
    d4 = b.give("2026-01-20T12:00", 300, 39)
    b.refund(d4, 339, "2026-02-02T15:00")  # refunded in full, the month after
    d5 = b.give("2026-02-14T12:00", 5000)
    b.dispute(d5, "needs_response", (5000, 1500, "2026-03-02T12:00"), opened="2026-03-02T12:00")
    d5.status = DonationStatus.DISPUTED
    b.give("2026-02-20T12:00", 800, status=DonationStatus.FAILED)  # never counted
    b.give("2026-04-01T03:59:59", 100)  # 23:59:59 on 31 March (EDT): March
    b.give("2026-04-01T04:00", 100)  # midnight on 1 April: outside the range
    # Recurring gifts and their payments.
    s1 = b.subscribe("2026-01-10T15:00", 530, 30)
    for day in ("2026-01-10", "2026-02-10", "2026-03-10"):
        b.give(f"{day}T15:00", 500, 30, subscription=s1, article=river.id, variant=v1.id)
    s2 = b.subscribe("2026-01-05T15:00", 6000, interval="year")  # MRR 6000 / 12 = 500
    b.give("2026-01-05T15:00", 6000, subscription=s2)
    s3 = b.subscribe("2026-01-03T15:00", 1000)
    b.give("2026-01-03T15:00", 1000, subscription=s3)
    b.give("2026-02-03T15:00", 1000, subscription=s3)
    b.change(s3, "2026-02-15T12:00", paused_until=utc("2026-03-20T15:00"))  # paused...
    b.change(s3, "2026-03-20T15:00", paused_until=None)  # ...and resumed
    b.give("2026-03-20T15:00", 1000, subscription=s3)
    s4 = b.subscribe("2026-02-05T15:00", 300)
    b.give("2026-02-05T15:00", 300, subscription=s4)
    b.give("2026-03-05T15:00", 300, subscription=s4)
    b.change(
        s4,
        "2026-03-12T12:00",
        status=SubscriptionStatus.CANCELED,
        ended_at=utc("2026-03-12T12:00"),
    )
    s5 = b.subscribe("2026-02-25T15:00", 700)
    b.give("2026-02-25T15:00", 700, subscription=s5)
    b.change(s5, "2026-03-15T12:00", amount_cents=1200)  # upgrade
    b.give("2026-03-25T15:00", 1200, subscription=s5)
    s6 = b.subscribe("2026-03-01T12:00", 1002, interval="year")  # 1002 / 12 = 83.5 -> 84
    b.give("2026-03-01T12:00", 1002, subscription=s6)
    s7 = b.subscribe("2026-01-20T18:00", 900)
    b.give("2026-01-20T18:00", 900, subscription=s7)
    b.change(s7, "2026-02-20T18:00", amount_cents=400)  # downgrade
    b.give("2026-02-20T18:00", 400, subscription=s7)
    b.give("2026-03-20T18:00", 400, subscription=s7)
    s1.status = SubscriptionStatus.PAST_DUE  # still counts in MRR; needs attention
    # The funnel: banner counters (local days), checkouts started.
    for day, variant, article, impressions, clicks in (
        (date(2026, 1, 10), v1, river.id, 1000, 50),
        (date(2026, 2, 2), v2, river.id, 500, 10),
        (date(2026, 3, 3), v1, 0, 200, 5),
        (date(2026, 4, 2), v1, river.id, 999, 99),  # outside the range
    ):
        db.session.add(
            BannerStat(
                day=day,
                variant_id=variant.id,
                article_id=article,
                impressions=impressions,
                clicks=clicks,
            )
        )
    for created, article, variant, status in (
        ("2026-01-15T11:58", river.id, v1.id, IntentStatus.COMPLETED),
        ("2026-01-16T12:00", river.id, v1.id, IntentStatus.EXPIRED),
        ("2026-02-01T05:00", other.id, v2.id, IntentStatus.COMPLETED),
        ("2026-03-03T12:00", None, v1.id, IntentStatus.PENDING),
        ("2026-01-01T04:59", river.id, v2.id, IntentStatus.COMPLETED),  # 31 Dec locally
    ):
        db.session.add(
            DonationIntent(
                amount_cents=500,
                currency="usd",
                frequency=Frequency.ONCE,
                source_article_id=article,
                variant_id=variant,
                status=status,
                created_at=utc(created),
            )
        )
    db.session.commit()
    return {"river": river, "other": other, "v1": v1, "v2": v2}


NOW = utc("2026-04-15T12:00")
Q1 = ReportRequest(date(2026, 1, 1), date(2026, 3, 31), "month")


def money(row: MoneyRow) -> tuple[int, ...]:
    return (
        row.donations,
        row.gross,
        row.fees,
        row.gifts,
        row.refunds,
        row.disputes,
        row.net,
        row.one_off_count,
        row.one_off_gross,
        row.recurring_count,
        row.recurring_gross,
    )


def test_buckets_are_local_months_in_utc() -> None:
    buckets = make_buckets(date(2026, 1, 1), date(2026, 3, 31), "month", NY)
    assert [(b.starts, b.ends) for b in buckets] == [
        (utc("2026-01-01T05:00"), utc("2026-02-01T05:00")),
        (utc("2026-02-01T05:00"), utc("2026-03-01T05:00")),
        (utc("2026-03-01T05:00"), utc("2026-04-01T04:00")),  # daylight saving from 8 March
    ]
    weeks = make_buckets(date(2026, 3, 4), date(2026, 3, 17), "week", NY)
    assert [(w.first_day.day, w.last_day.day) for w in weeks] == [(4, 8), (9, 15), (16, 17)]
    assert weeks[0].ends - weeks[0].starts == utc("2026-03-09T04:00") - utc("2026-03-04T05:00")


def test_money_by_month(books: dict[str, Any]) -> None:
    report = full_report(db.session(), Q1, NY, NOW)
    # January: d1 1059 + d2 500 + d4 339 (one-off: 1898) and s1 530, s2 6000, s3 1000, s7 900;
    # d1's dispute withdrew 1059 and Stripe's 1500 fee on the 25th.
    assert money(report.money[0]) == (7, 10328, 128, 10200, 0, 1059, 7769, 3, 1898, 4, 8430)
    # February: d3 2000 + d5 5000 (the failed 800 is not counted) and s1 530, s3 1000, s4 300,
    # s5 700, s7 400; refunds dated in February: 700 of d3 and all 339 of d4; d1's dispute was
    # won and its 1059 reinstated (the fee stays lost).
    assert money(report.money[1]) == (7, 9930, 30, 9900, 1039, -1059, 9950, 2, 7000, 5, 2930)
    # March: d7 100 (23:59:59 local on the 31st) and s1 530, s3 1000, s4 300, s5 1200, s6 1002,
    # s7 400; the last 300 refunded of d3; d5's dispute withdrew 5000 and 1500 on 2 March.
    assert money(report.money[2]) == (7, 4532, 30, 4502, 300, 5000, -2268, 1, 100, 6, 4432)
    assert [row.dispute_fees for row in report.money] == [1500, 0, 1500]
    assert money(report.total) == (21, 24790, 188, 24602, 1339, 5000, 15451, 6, 8998, 15, 15792)
    assert report.total.dispute_fees == 3000
    assert report.total.average_gift == 1172  # 24602 / 21 = 1171.52, half up


def test_refunds_and_disputes_of_one_gift_count_what_moved(app: Flask) -> None:
    """A gift partly refunded and then disputed, and one under inquiry and then refunded,
    through the ledger as Stripe's objects drive it. Worked out by hand (May 2026, UTC):

    g1 2000 paid 3 May; refund re_1 500 (succeeded) 5 May; chargeback of what was left, 1500,
       withdrawn 10 May with Stripe's 1500 fee, lost: refunds 500, disputes 1500, fees 1500.
    g2 1000 paid 4 May; an inquiry 6 May (no money moves; it stays refundable); refund re_2
       1000 (succeeded) 8 May; the inquiry closes: refunds 1000, disputes 0.
    g3 700 paid 7 May; refund re_3 700 pending, then failed: nothing.
    Gross 3700; refunds 1500; disputes 1500; dispute fees 1500; net 3700 - 4500 = -800.
    """
    from membership.payments.disputes import Dispute, DisputeFunds
    from membership.payments.objects import Refund
    from membership.services.ledger.charges import apply_dispute, apply_refunds

    config = app.config["MEMBERSHIP"]
    b = Books()
    g1 = b.give("2026-05-03T12:00", 2000, stripe_charge_id="ch_g1")
    g2 = b.give("2026-05-04T12:00", 1000, stripe_charge_id="ch_g2")
    g3 = b.give("2026-05-07T12:00", 700, stripe_charge_id="ch_g3")
    session = db.session()

    def refunds(charge: str, *rows: tuple[str, str, int, str]) -> None:
        apply_refunds(
            session,
            charge_id=charge,
            payment_intent_id=None,
            refunds=[
                Refund(rid, status, amount, charge, None, utc(when), None)
                for rid, status, amount, when in rows
            ],  # fmt: skip
            config=config,
            now=utc("2026-05-31T12:00"),
        )

    def dispute(charge: str, status: str, *funds: DisputeFunds, amount: int) -> None:
        apply_dispute(
            session,
            Dispute(
                f"dp_{charge}",
                charge,
                None,
                amount,
                "usd",
                status,
                "fraudulent",
                utc("2026-05-06T12:00"),
                None,
                funds,
                status.startswith("warning"),
            ),  # fmt: skip
            config=config,
            now=utc("2026-05-31T12:00"),
        )

    refunds("ch_g1", ("re_1", "succeeded", 500, "2026-05-05T12:00"))
    withdrawn = DisputeFunds("txn_g1", -1500, 1500, utc("2026-05-10T12:00"))
    dispute("ch_g1", "needs_response", withdrawn, amount=1500)
    dispute("ch_g1", "lost", withdrawn, amount=1500)
    dispute("ch_g2", "warning_needs_response", amount=1000)
    assert refundable_cents(g2) == 1000  # an inquiry leaves the gift refundable
    refunds("ch_g2", ("re_2", "succeeded", 1000, "2026-05-08T12:00"))
    dispute("ch_g2", "warning_closed", amount=1000)
    refunds("ch_g3", ("re_3", "pending", 700, "2026-05-09T12:00"))
    refunds("ch_g3", ("re_3", "failed", 700, "2026-05-09T12:00"))
    db.session.commit()
    assert (g1.status, g1.refunded_cents) == (DonationStatus.DISPUTED, 500)
    assert (g2.status, g2.refunded_cents) == (DonationStatus.REFUNDED, 1000)
    assert (g3.status, g3.refunded_cents) == (DonationStatus.SUCCEEDED, 0)
    [may] = money_by_bucket(
        session, make_buckets(date(2026, 5, 1), date(2026, 5, 31), "month", UTC)
    )
    assert (may.gross, may.refunds, may.disputes, may.dispute_fees, may.net) == (
        3700, 1500, 1500, 1500, -800,
    )  # fmt: skip


def test_average_and_median_gifts(books: dict[str, Any]) -> None:
    stats = full_report(db.session(), Q1, NY, NOW).gifts
    # 21 gifts: 100, 300 x3, 400 x2, 500 x4, 700, 900, 1000 x4, 1002, 1200, 2000, 5000, 6000.
    assert stats["all"] == GiftStats(21, 1172, 700)
    # One-off: 100, 300, 500, 1000, 2000, 5000 -> 8900 / 6 = 1483.33; median (500 + 1000) / 2.
    assert stats["one_off"] == GiftStats(6, 1483, 750)
    # Recurring: 15 payments summing to 15702 -> 1046.8; the 8th smallest is 700.
    assert stats["recurring"] == GiftStats(15, 1047, 700)


def test_mrr_movements_and_churn(books: dict[str, Any]) -> None:
    rows = full_report(db.session(), Q1, NY, NOW).movements

    def figures(r: MovementRow) -> tuple[Any, ...]:
        return (
            r.mrr_start, r.mrr_end, r.active_start, r.active_end,
            r.new_count, r.new_mrr, r.expansion_count, r.expansion_mrr,
            r.contraction_count, r.contraction_mrr, r.churn_count, r.churn_mrr,
            r.reactivation_count, r.reactivation_mrr, r.churn_rate, r.mrr_churn_rate,
        )  # fmt: skip

    # January: s1 530, s2 500 (6000 a year), s3 1000, s7 900 start.
    assert figures(rows[0]) == (0, 2930, 0, 4, 4, 2930, 0, 0, 0, 0, 0, 0, 0, 0, None, None)
    # February: s3 pauses (churn 1000), s4 300 and s5 700 start, s7 900 -> 400.
    # Churn rate 1 / 4 = 25%; MRR churn 1000 / 2930 = 34.13%.
    assert figures(rows[1]) == (2930, 2430, 4, 5, 2, 1000, 0, 0, 1, 500, 1, 1000, 0, 0, 25.0, 34.1)
    # March: s3 resumes (reactivation), s4 cancels, s5 700 -> 1200, s6 starts at 84 (1002 / 12
    # = 83.5, half up). 2430 + 1000 - 300 + 500 + 84 = 3714. Churn 1 / 5; 300 / 2430 = 12.35%.
    assert figures(rows[2]) == (2430, 3714, 5, 6, 1, 84, 1, 500, 0, 0, 1, 300, 1, 1000, 20.0, 12.3)


def test_annual_amounts_are_normalised_half_up() -> None:
    year = BillingInterval.YEAR
    assert [monthly_cents(a, year) for a in (6000, 1000, 1002, 1001, 1)] == [500, 83, 84, 83, 0]
    assert monthly_cents(1001, BillingInterval.MONTH) == 1001


def test_cohort_retention(books: dict[str, Any]) -> None:
    cohorts = full_report(db.session(), Q1, NY, NOW).cohorts
    # January: s1, s2, s3, s7; s3 is paused at the end of February, back by the end of March.
    assert [(c.label, c.size, c.retained) for c in cohorts] == [
        ("2026-01", 4, [4, 3, 4]),
        ("2026-02", 2, [2, 1]),  # s4 and s5; s4 cancelled in March
        ("2026-03", 1, [1]),  # s6, which started at 07:00 on 1 March in New York
    ]
    assert cohorts[0].rate(1) == 75.0


def test_articles_and_variants_funnel(books: dict[str, Any]) -> None:
    report = full_report(db.session(), Q1, NY, NOW)

    def funnel(rows: list[FunnelRow]) -> list[tuple[Any, ...]]:
        return [
            (r.name, r.impressions, r.clicks, r.checkouts, r.donations, r.payments, r.revenue)
            for r in rows
        ]

    river, other = books["river"], books["other"]
    # Revenue: river = d1 1059 + s1 3 x 530; other = d3 2000; the rest has no article.
    assert funnel(report.articles) == [
        ("No article (support page)", 200, 5, 1, 0, 16, 20141),
        (river.title, 1500, 60, 2, 1, 4, 2649),
        (other.title, 0, 0, 1, 1, 1, 2000),
    ]
    assert funnel(report.variants) == [
        ("No banner", 0, 0, 0, 0, 16, 20141),
        ("v1", 1200, 55, 3, 1, 4, 2649),
        ("v2", 500, 10, 1, 1, 1, 2000),
    ]
    v1 = report.variants[1]
    assert (v1.click_rate, v1.checkout_rate, v1.completion_rate) == (
        4.6,  # 55 / 1200
        5.5,  # 3 / 55
        33.3,  # 1 / 3
    )
    # 1 / 1200 = 0.083%; Wilson 0.0147% to 0.4711%: the interval's ends rounded outwards.
    assert v1.conversion_text == "0.08% (0.01–0.48%)"
    assert v1.revenue_per_thousand == 2208  # 2649 * 1000 / 1200 = 2207.5, half up
    assert v1.new_recurring == 0  # the books' subscriptions came through no variant


def test_a_conversion_figure_always_reads_as_inside_its_interval() -> None:
    """Issue 14: "Conversion 0.2%" was shown next to "95% interval 0.15%–0.17%"."""
    row = FunnelRow(key=1, name="b", impressions=1_000_000, donations=1600)
    assert row.conversion_text == "0.16% (0.15–0.17%)"
    assert row.conversion_low <= row.conversion <= row.conversion_high  # type: ignore[operator]


@given(trials=st.integers(1, 10**7), share=st.floats(0, 1))
def test_rounded_rates_sit_inside_their_rounded_intervals(trials: int, share: float) -> None:
    figures = rate_with_interval(int(trials * share), trials)
    assert figures is not None
    assert figures.low <= figures.rate <= figures.high
    assert figures.low.as_tuple().exponent == figures.rate.as_tuple().exponent
    assert figures.high.as_tuple().exponent == figures.rate.as_tuple().exponent


def test_wilson_interval_reference_values() -> None:
    assert wilson_interval(0, 10) == (0.0, 27.75)
    assert wilson_interval(5, 10) == (23.66, 76.34)
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize(
    ("now", "gross", "to_date", "one_off"),
    [
        # 23:59:59.9 on 31 March in New York: all of March; "to the same day" is all February.
        (utc("2026-04-01T03:59:59.900000"), 4532, 9930, GiftStats(1, 100, 100)),
        # Noon on 20 March: March so far (s6, s4, s1, s3 at 15:00 UTC) against February up to
        # noon on the 20th (d3, s3, s4, s1, d5; s7 at 18:00 UTC is later).
        (utc("2026-03-20T16:00"), 2832, 8830, GiftStats(0, 0, 0)),
    ],
)
def test_dashboard(
    books: dict[str, Any], now: datetime, gross: int, to_date: int, one_off: GiftStats
) -> None:
    board = dashboard(db.session(), NY, now)
    assert board.month_label == "March 2026"
    assert (board.this_month.gross, board.previous_month.gross) == (gross, 9930)
    assert board.previous_to_date.gross == to_date
    assert board.this_month.refunds == 300 and board.this_month.disputes == 5000
    assert board.one_off == one_off
    assert (board.mrr, board.active_recurring) == (3714, 6)
    movement = board.movement
    assert (movement.new_count, movement.churn_count, movement.reactivation_count) == (1, 1, 1)
    assert (board.failing_subscriptions, board.failing_mrr) == (1, 530)  # s1 is past due
    assert (board.open_disputes, board.open_dispute_cents) == (1, 5000)  # the won one is closed


class Tables(HTMLParser):
    """The cells of every <table id=...> of a page, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.current = dict(attrs).get("id")
            if self.current:
                self.tables[self.current] = []
        elif tag == "tr" and self.current:
            self.tables[self.current].append([])
        elif tag in ("td", "th") and self.current:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.current and self.cell is not None:
            self.tables[self.current][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def number(text: str) -> Decimal | str:
    """'$1,234.5' / '-$7' / '12.5' -> Decimal; '–' and '' -> ''; anything else unchanged."""
    cleaned = text.replace("$", "").replace(",", "").strip()
    if cleaned in ("", "–"):
        return ""
    try:
        return Decimal(cleaned)
    except ArithmeticError:
        return text


@pytest.fixture
def ny_client(app_factory: Any, books: dict[str, Any]) -> Iterator[Any]:
    """Finance, signed in to a New York newsroom on 15 April 2026 (the clock stays there: a
    session cookie signed at another time would be refused)."""
    app = app_factory(timezone="America/New_York")
    client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        with app.app_context():
            sign_in_staff(client, make_staff(StaffRole.FINANCE))
        yield client


@pytest.mark.parametrize(
    ("report", "table"),
    [("money", "money-table"), ("movements", "movements-table"), ("articles", "articles-table"),
     ("variants", "variants-table")],
)  # fmt: skip
def test_csv_matches_the_page(ny_client: Any, report: str, table: str) -> None:
    query = "start=2026-01-01&end=2026-03-31&group=month"
    with time_machine.travel(NOW, tick=False):
        page = ny_client.get(f"/staff/reports?{query}")
        download = export_report_query(ny_client, f"{query}&report={report}")
    assert page.status_code == 200 and download.status_code == 200
    assert download.mimetype == "text/csv"
    page_rows = tables_of(page.get_data(as_text=True))[table]
    csv_rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    if report in ("articles", "variants"):
        # The page keeps the columns staff decide by (within 1280 pixels); the file has them all.
        keep = [csv_rows[0].index(title) for title in page_rows[0]]
        csv_rows = [[r[i] for i in keep] for r in csv_rows]
    assert csv_rows[0] == page_rows[0]
    assert [[number(c) for c in r] for r in csv_rows[1:]] == [
        [number(c) for c in r] for r in page_rows[1:]
    ]
    if report == "money":
        assert csv_rows[-1][:9] == [
            "Total",
            "21",
            "247.90",
            "1.88",
            "246.02",
            "13.39",
            "50.00",
            "30.00",
            "154.51",
        ]


def test_cohort_csv_and_page_agree(ny_client: Any) -> None:
    query = "start=2026-01-01&end=2026-03-31&group=month"
    with time_machine.travel(NOW, tick=False):
        page = tables_of(ny_client.get(f"/staff/reports?{query}").get_data(as_text=True))
        download = export_report_query(ny_client, f"{query}&report=cohorts").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(download)))
    assert rows == [
        ["Cohort", "Supporters", "Month 0", "Month 1", "Month 2"],
        ["2026-01", "4", "4", "3", "4"],
        ["2026-02", "2", "2", "1"],
        ["2026-03", "1", "1"],
    ]
    assert page["cohort-table"][1][:4] == ["2026-01", "4", "4 (100.0%)", "3 (75.0%)"]


def test_donation_export_lists_every_payment_of_the_range(ny_client: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        response = export_report_query(
            ny_client, "report=donations&start=2026-01-01&end=2026-03-31&group=month"
        )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # All 22 payments of the quarter in local time, the failed one included (it has a status).
    assert len(rows) == 22
    assert rows[0]["paid_at_utc"] == "2026-01-03T15:00:00+00:00"
    assert sum(Decimal(r["gift"]) for r in rows if r["status"] != "failed") == Decimal("246.02")
    entry = db.session.query(AuditEntry).filter_by(action="report.exported").one()
    assert entry.target_id == "donations"
    assert entry.details == {"start": "2026-01-01", "end": "2026-03-31", "group": "month"}


def test_the_page_shows_the_hand_computed_totals(ny_client: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        html = ny_client.get("/staff/reports?start=2026-01-01&end=2026-03-31&group=month").get_data(
            as_text=True
        )
    assert 'data-total="gross">$247.90<' in html
    assert 'data-total="refunds">$13.39<' in html
    assert 'data-total="dispute_fees">$30<' in html
    assert 'data-total="net">$154.51<' in html
    assert "America/New_York" in html


def test_zero_decimal_currency_is_exported_in_whole_units(app_factory: Any, books: Any) -> None:
    app = app_factory(timezone="America/New_York", currency="jpy")
    client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        with app.app_context():
            sign_in_staff(client, make_staff(StaffRole.FINANCE))
        rows = list(
            csv.reader(
                io.StringIO(
                    export_report_query(
                        client, "report=money&start=2026-01-01&end=2026-03-31&group=month"
                    ).get_data(as_text=True)
                )
            )
        )
        page = client.get("/staff/reports?start=2026-01-01&end=2026-03-31&group=month")
    assert rows[-1][2] == "24790"  # gross, in yen: no decimal point
    assert 'data-total="gross">¥24,790<' in page.get_data(as_text=True)  # Babel, en_US


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-03-01&end=2026-01-01&group=month",
        "start=nope&end=2026-01-01",
        "start=2026-01-01&end=2026-03-31&group=year",
        "start=2000-01-01&end=2026-01-01&group=day",
        "start=2026-01-01&end=9999-12-31&group=month",
        "start=%27%3B+DROP+TABLE+donation&end=2026-01-01",
    ],
)
def test_bad_report_queries_get_a_clear_400(ny_client: Any, query: str) -> None:
    page = ny_client.get(f"/staff/reports?{query}")
    assert page.status_code == 400
    assert 'class="error"' in page.get_data(as_text=True)
    download = export_report_query(ny_client, f"{query}&report=money")
    assert download.status_code == 400
    assert download.get_data(as_text=True).startswith("Cannot export")
    assert (
        export_report_query(ny_client, "start=2026-01-01&end=2026-01-02&report=x").status_code
        == 400
    )


def test_chart_axes_use_short_period_labels() -> None:
    from zoneinfo import ZoneInfo

    months = make_buckets(date(2025, 12, 1), date(2026, 2, 28), "month", ZoneInfo("UTC"))
    assert [b.short_label for b in months] == ["Dec 2025", "Jan 2026", "Feb 2026"]
    assert months[0].label == "2025-12-01 to 2025-12-31"
    clipped = make_buckets(date(2026, 1, 15), date(2026, 1, 31), "month", ZoneInfo("UTC"))
    assert [b.short_label for b in clipped] == ["15 Jan"]
