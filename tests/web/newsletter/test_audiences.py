"""Audiences and scheduled sending: an issue scheduled for "supporters only" reaches exactly the
supporters in a seeded list; past times and empty audiences are refused; a cancelled schedule
sends nothing; the segment queries use indexes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select, text

from helpers.clients import csrf_token_from
from helpers.factories import make_donation, make_supporter
from helpers.lifecycle import make_subscription
from helpers.newsletter import deliver
from helpers.smtp_capture import SmtpCapture
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import (
    EmailSuppression,
    IssueStatus,
    NewsletterIssue,
    StaffRole,
    Subscriber,
    SubscriberStatus,
    SubscriptionStatus,
    utcnow,
)
from membership.services.newsletter.audiences import audience_condition, is_current_supporter
from membership.services.newsletter.schedule import send_scheduled_job
from membership.services.newsletter.send_job import delivery_rows

pytestmark = pytest.mark.usefixtures("app_context")

FUTURE = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)


def listed(email: str, status: SubscriberStatus = SubscriberStatus.CONFIRMED) -> None:
    db.session.add(Subscriber(email=email, status=status, source="test"))
    db.session.commit()


def seed_list() -> set[str]:
    """Everyone on the list, each a different case; returns the current supporters."""
    now = utcnow()
    monthly = make_supporter("monthly@example.org")
    make_subscription(monthly, started_at=now - timedelta(days=90), stripe_id="sub_monthly")
    recent = make_supporter("recent@example.org")
    make_donation(recent, paid_at=now - timedelta(days=10))
    lapsed = make_supporter("lapsed@example.org")
    make_donation(lapsed, paid_at=now - timedelta(days=200))
    ended = make_supporter("ended@example.org")
    cancelled = make_subscription(ended, started_at=now - timedelta(days=400), stripe_id="sub_x")
    cancelled.status = SubscriptionStatus.CANCELED
    bounced = make_supporter("bounced@example.org")
    make_donation(bounced, paid_at=now - timedelta(days=5))
    db.session.add(EmailSuppression(address="bounced@example.org", reason="bounce"))
    pending = make_supporter("pending@example.org")
    make_donation(pending, paid_at=now - timedelta(days=5))
    gone = make_supporter("gone@example.org")
    make_donation(gone, paid_at=now - timedelta(days=5))
    db.session.commit()
    for email in ("monthly", "recent", "lapsed", "ended", "bounced", "reader", "another"):
        listed(f"{email}@example.org")
    listed("pending@example.org", SubscriberStatus.PENDING)
    listed("gone@example.org", SubscriberStatus.UNSUBSCRIBED)
    return {"monthly@example.org", "recent@example.org"}


def make_issue() -> NewsletterIssue:
    issue = NewsletterIssue(subject="For our supporters", body_markdown="Thank you.", body_html="")
    db.session.add(issue)
    db.session.commit()
    return issue


def post_schedule(
    client: FlaskClient, issue_id: int, audience: str, send_at: str
) -> tuple[int, str]:
    page = client.get(f"/staff/newsletter/issues/{issue_id}").get_data(as_text=True)
    response = client.post(
        f"/staff/newsletter/issues/{issue_id}/schedule",
        data={"csrf_token": csrf_token_from(page), "audience": audience, "send_at": send_at},
        follow_redirects=True,
    )
    return response.status_code, response.get_data(as_text=True)


def run_scheduler(now: datetime) -> int:
    reports = send_scheduled_job(
        db.session(), current_app.config["MEMBERSHIP"], now=now, commit=db.session.commit
    )
    return sum(report.queued for report in reports)


def test_an_issue_scheduled_for_supporters_reaches_exactly_the_supporters(
    app: Flask, smtp: SmtpCapture
) -> None:
    supporters = seed_list()
    issue = make_issue()
    editor = staff_client(app, make_staff(StaffRole.EDITOR))
    page = editor.get(f"/staff/newsletter/issues/{issue.id}").get_data(as_text=True)
    counts = page.split('id="audience-counts"')[1].split("</table>")[0]
    # Everyone confirmed but the bounced address: 6; supporters 2; the rest 4; lapsed: the gift
    # of 200 days ago (the cancelled gift's supporter never paid); one-off in 12 months: 2.
    assert [c.split("<")[0] for c in counts.split('<td class="num">')[1:]] == [
        "6",
        "2",
        "4",
        "1",
        "2",
    ]

    status, page = post_schedule(editor, issue.id, "supporters", f"{FUTURE:%Y-%m-%dT%H:%M}")
    assert status == 200 and "Scheduled for" in page
    db.session.expire_all()
    stored = db.session.get(NewsletterIssue, issue.id)
    assert stored is not None and stored.scheduled_at == FUTURE and stored.audience == "supporters"

    assert run_scheduler(FUTURE - timedelta(minutes=1)) == 0
    assert run_scheduler(FUTURE) == 2
    assert run_scheduler(FUTURE + timedelta(minutes=1)) == 0
    deliver(smtp, now=FUTURE)
    assert {str(m["To"]) for m in smtp.messages} == supporters
    assert len(smtp.messages) == 2
    db.session.expire_all()
    assert db.session.get(NewsletterIssue, issue.id).status is IssueStatus.SENT  # type: ignore[union-attr]


def test_a_past_time_an_empty_audience_and_nonsense_are_refused(app: Flask) -> None:
    listed("reader@example.org")
    issue = make_issue()
    editor = staff_client(app, make_staff(StaffRole.EDITOR))
    status, page = post_schedule(editor, issue.id, "everyone", "2020-01-01T07:00")
    assert status == 400 and "That time has passed" in page
    status, page = post_schedule(editor, issue.id, "supporters", f"{FUTURE:%Y-%m-%dT%H:%M}")
    assert status == 400 and "the issue would reach no one" in page
    for bad in ("", "tomorrow", "2027-13-45T99:99", "<script>"):
        assert post_schedule(editor, issue.id, "everyone", bad)[0] == 400
    assert (
        post_schedule(editor, issue.id, "'; drop table subscriber; --", f"{FUTURE:%Y-%m-%dT%H:%M}")[
            0
        ]
        == 400
    )
    db.session.expire_all()
    assert db.session.get(NewsletterIssue, issue.id).scheduled_at is None  # type: ignore[union-attr]


def test_a_cancelled_schedule_sends_nothing_and_times_are_the_newsrooms(
    app_factory: Callable[..., Flask],
) -> None:
    listed("reader@example.org")
    issue = make_issue()
    lisbon = app_factory(timezone="America/New_York")
    editor = staff_client(lisbon, make_staff(StaffRole.EDITOR))
    assert post_schedule(editor, issue.id, "everyone", "2030-01-15T07:00")[0] == 200
    db.session.expire_all()
    stored = db.session.get(NewsletterIssue, issue.id)
    assert stored is not None
    assert stored.scheduled_at == datetime(2030, 1, 15, 12, 0, tzinfo=UTC)  # 07:00 in New York
    page = editor.get(f"/staff/newsletter/issues/{issue.id}").get_data(as_text=True)
    response = editor.post(
        f"/staff/newsletter/issues/{issue.id}/cancel-schedule",
        data={"csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 303
    assert run_scheduler(datetime(2030, 1, 16, tzinfo=UTC)) == 0
    db.session.expire_all()
    assert db.session.get(NewsletterIssue, issue.id).status is IssueStatus.DRAFT  # type: ignore[union-attr]


def test_segment_queries_use_indexes() -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan is checked on SQLite; PostgreSQL's depends on table statistics")
    for name in ("everyone", "supporters", "non_supporters", "lapsed", "one_off_recent"):
        query = (
            select(Subscriber.id, Subscriber.email)
            .where(audience_condition(name, quiet_days=60, now=utcnow()), Subscriber.id > 0)
            .order_by(Subscriber.id)
            .limit(1000)
        )
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(
            str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
        for table in ("donation", "subscription", "supporter", "email_suppression"):
            assert f"SCAN {table}" not in plan, (name, plan)
        # The SELECT a send's batch inserts: the same plan, a range of the status index.
        now = utcnow()
        rows = delivery_rows(
            1,
            audience_condition(name, quiet_days=60, now=now),
            is_current_supporter(quiet_days=60, now=now),
            1000,
            2000,
            now,
        )
        compiled = rows.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(
            str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
        assert "ix_subscriber_status_id" in plan, (name, plan)
        for table in ("subscriber", "donation", "subscription", "supporter", "email_suppression"):
            assert f"SCAN {table}" not in plan, (name, plan)
