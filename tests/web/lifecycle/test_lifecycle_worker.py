"""The worker runs the lifecycle job daily and the scheduled newsletter job every minute: a first
gift's welcome and a due issue go out from worker ticks at a moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from helpers.factories import make_donation, make_supporter
from helpers.smtp_capture import SmtpCapture
from membership.emails.sender import sender_from_config
from membership.extensions import db, payments
from membership.models import NewsletterIssue, Subscriber, SubscriberStatus
from membership.worker.loop import Worker
from membership.worker.registry import registered_jobs

pytestmark = pytest.mark.usefixtures("app_context")

START = datetime(2027, 3, 2, 0, 0, 30, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_jobs_are_registered_with_their_schedules() -> None:
    schedule = {job.name: job.every for job in registered_jobs()}
    assert schedule["lifecycle_email"] == timedelta(days=1)
    assert schedule["newsletter_scheduled"] == timedelta(minutes=1)


def test_worker_ticks_send_the_welcome_and_a_scheduled_issue(app: Flask, smtp: SmtpCapture) -> None:
    make_donation(make_supporter("first@example.org"), paid_at=START - timedelta(hours=2))
    db.session.add(Subscriber(email="reader@example.org", status=SubscriberStatus.CONFIRMED))
    issue = NewsletterIssue(
        subject="Scheduled",
        body_markdown="Hello.",
        body_html="<p>Hello.</p>",
        scheduled_at=START + timedelta(minutes=3),
    )
    db.session.add(issue)
    db.session.commit()
    config = app.config["MEMBERSHIP"].with_overrides(mail_url=smtp.url)
    clock = Clock(START)
    worker = Worker(db.session, config, payments.gateway, sender_from_config(config), clock=clock)
    for minute in range(6):
        clock.now = START + timedelta(minutes=minute)
        worker.tick()
        worker.tick()  # the outbox batch after the jobs
    subjects = [(str(m["To"]), str(m["Subject"])) for m in smtp.messages]
    assert subjects == [
        ("first@example.org", "Welcome to The Observatory"),
        ("reader@example.org", "Scheduled"),
    ]
