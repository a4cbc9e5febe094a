"""Helpers for the newsletter tests: staff sign-in, subscribing, delivering the outbox to SMTP."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from helpers import staff
from helpers.smtp_capture import SmtpCapture
from membership.emails.sender import SmtpSender
from membership.extensions import db
from membership.models import StaffMember, StaffRole, Subscriber
from membership.services.newsletter.delivery import IssueCopies, make_issue_messages_job
from membership.services.outbox_delivery import DeliveryReport, deliver_due_job

MAIL_FROM = "The Observatory <support@observatory.example>"
CONFIRM_LINK = re.compile(r"https?://[^\s\"<>]+/newsletter/confirm/[A-Za-z0-9_.\-]+")
UNSUBSCRIBE_LINK = re.compile(r"https?://[^\s\"<>]+/newsletter/unsubscribe/[A-Za-z0-9_.\-]+")


def make_staff(role: StaffRole = StaffRole.EDITOR, email: str | None = None) -> StaffMember:
    return staff.make_staff(role, email or f"{role.value}@observatory.example")


def staff_cookie(app: Flask, member: StaffMember, *, user_agent: str) -> dict[str, str]:
    """A session cookie for a browser with this User-Agent, for Playwright's add_cookies."""
    return staff.staff_session_cookie(app, member, user_agent)


def subscribe(
    client: FlaskClient,
    email: str,
    *,
    source: str = "newsletter-page",
    version: str = "2026-11-a",
    headers: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> TestResponse:
    data = {"email": email, "source": source, "consent_version": version, "website": ""}
    data.update(extra or {})
    return client.post("/newsletter", data=data, headers=headers or {})


def deliver(smtp: SmtpCapture, *, now: datetime | None = None) -> DeliveryReport:
    """Run the outbox worker until nothing is due, against the captured SMTP server: as the
    worker does, make the next newsletter copies before each batch."""
    sender = SmtpSender.from_url(smtp.url, mail_from=MAIL_FROM)
    config = current_app.config["MEMBERSHIP"]
    copies = IssueCopies(config)
    total = DeliveryReport()
    while True:
        made = make_issue_messages_job(db.session(), config, limit=200, now=now, copies=copies)
        report = deliver_due_job(
            db.session(), sender, batch_size=200, max_attempts=3, lease_seconds=60, now=now
        )
        total += report
        if report.claimed == 0 and made == 0:
            return total


def subscriber(email: str) -> Subscriber:
    db.session.expire_all()
    return db.session.scalars(select(Subscriber).where(Subscriber.email == email)).one()


def confirm_link_in(text: str) -> str:
    match = CONFIRM_LINK.search(text)
    assert match, text
    return match.group(0)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]
