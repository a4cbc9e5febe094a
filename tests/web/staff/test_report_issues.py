"""Newsletter issues as a family of the staff reports: gifts started from an issue's appeal link
(`source=newsletter-<id>`) are counted under that issue on /staff/reports and in its CSV file,
renewals of a monthly gift included, failed payments and other issues' or no issue's gifts not."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from helpers.exports import export_report
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import (
    BillingInterval,
    Donation,
    DonationIntent,
    DonationKind,
    DonationStatus,
    Frequency,
    IntentStatus,
    NewsletterIssue,
    StaffRole,
    Subscription,
    SubscriptionStatus,
)
from membership.services.newsletter.appeal import issue_gifts
from membership.services.reports.attribution import funnel

pytestmark = pytest.mark.usefixtures("app_context")

UTC_ZONE = ZoneInfo("UTC")
MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)
_payment = iter(range(1, 1000))


def _intent(issue: NewsletterIssue | None, status: IntentStatus, cents: int) -> DonationIntent:
    intent = DonationIntent(
        amount_cents=cents,
        currency="usd",
        frequency=Frequency.ONCE,
        source_issue_id=issue.id if issue else None,
        status=status,
        created_at=MARCH,
    )
    db.session.add(intent)
    db.session.flush()
    return intent


def _paid(
    intent: DonationIntent,
    cents: int,
    *,
    at: datetime = MARCH,
    status: DonationStatus = DonationStatus.SUCCEEDED,
    subscription: Subscription | None = None,
) -> None:
    db.session.add(
        Donation(
            amount_cents=cents,
            fee_cents=0,
            currency="usd",
            kind=DonationKind.RECURRING if subscription else DonationKind.ONE_OFF,
            status=status,
            stripe_payment_intent_id=f"pi_issue_{next(_payment)}",
            intent_id=intent.id,
            subscription_id=subscription.id if subscription else None,
            paid_at=at,
        )
    )


@pytest.fixture
def issues() -> tuple[NewsletterIssue, NewsletterIssue]:
    weekly = NewsletterIssue(subject="Weekly: the harbour", body_markdown="x", body_html="<p>x</p>")
    budget = NewsletterIssue(subject="Budget special", body_markdown="x", body_html="<p>x</p>")
    db.session.add_all([weekly, budget])
    db.session.flush()
    # Weekly: a $7 gift, a failed payment of a second one, and a monthly gift paid twice.
    _paid(_intent(weekly, IntentStatus.COMPLETED, 700), 700)
    _paid(_intent(weekly, IntentStatus.COMPLETED, 900), 900, status=DonationStatus.FAILED)
    monthly = _intent(weekly, IntentStatus.COMPLETED, 500)
    subscription = Subscription(
        stripe_subscription_id="sub_issue_1",
        intent_id=monthly.id,
        amount_cents=500,
        currency="usd",
        interval=BillingInterval.MONTH,
        status=SubscriptionStatus.ACTIVE,
        started_at=MARCH,
    )
    db.session.add(subscription)
    db.session.flush()
    _paid(monthly, 500, subscription=subscription)
    _paid(monthly, 500, at=datetime(2026, 4, 10, 12, tzinfo=UTC), subscription=subscription)
    # Budget: one checkout abandoned. No issue: a $50 gift that must not appear.
    _intent(budget, IntentStatus.PENDING, 2500)
    _paid(_intent(None, IntentStatus.COMPLETED, 5000), 5000)
    # A payment dated outside the range counts nothing in it.
    _paid(_intent(budget, IntentStatus.COMPLETED, 100), 100, at=datetime(2026, 5, 2, tzinfo=UTC))
    db.session.commit()
    return weekly, budget


def test_gifts_from_an_issue_s_appeal_are_a_family_of_the_report(
    issues: tuple[NewsletterIssue, NewsletterIssue],
) -> None:
    rows = funnel(db.session(), "issue", MARCH.date().replace(day=1), MARCH.date(), UTC_ZONE)
    figures = [
        (r.name, r.checkouts, r.donations, r.payments, r.revenue, r.new_recurring) for r in rows
    ]
    assert figures == [
        ("Weekly: the harbour", 3, 3, 2, 1200, 1),
        ("Budget special", 2, 1, 0, 0, 0),
    ]
    # The issue's own staff page counts the same money.
    weekly, budget = issues
    assert issue_gifts(db.session(), weekly.id) == (3, 1700)  # every payment, April's too
    assert issue_gifts(db.session(), budget.id) == (1, 100)
    spring = funnel(db.session(), "issue", MARCH.date(), datetime(2026, 4, 30).date(), UTC_ZONE)
    assert [(r.name, r.payments, r.revenue) for r in spring] == [
        ("Weekly: the harbour", 3, 1700),
        ("Budget special", 0, 0),
    ]


def _issue_rows(html: str) -> list[list[str]]:
    table = html.split('id="issues-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_the_report_page_and_its_csv_show_the_issues(
    app: Flask, issues: tuple[NewsletterIssue, NewsletterIssue]
) -> None:
    client = staff_client(app, make_staff(StaffRole.FINANCE))
    page = client.get("/staff/reports?start=2026-03-01&end=2026-03-31&group=month")
    assert page.status_code == 200
    rows = _issue_rows(page.get_data(as_text=True))
    assert rows[0][0] == "Name"
    revenue = rows[0].index("Revenue")
    assert [(r[0], r[revenue]) for r in rows[1:]] == [
        ("Weekly: the harbour", "$12"),
        ("Budget special", "$0"),
    ]
    download = export_report(client, report="issues", start="2026-03-01", end="2026-03-31")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    header = lines[0]
    picked = [
        (
            r[0],
            r[header.index("Checkouts started")],
            r[header.index("Payments")],
            r[header.index("Revenue")],
        )
        for r in lines[1:]
    ]
    assert picked == [
        ("Weekly: the harbour", "3", "2", "12.00"),
        ("Budget special", "2", "0", "0.00"),
    ]
