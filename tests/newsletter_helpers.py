"""Helpers for the newsletter tests: staff sign-in, subscribing, delivering the outbox to SMTP."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from membership.emails.sender import SmtpSender
from membership.extensions import db, login_manager
from membership.models import StaffMember, StaffRole, Subscriber
from membership.services.outbox import DeliveryReport, deliver_due
from membership.services.staff import create_or_update_staff
from smtp_capture import SmtpCapture

MAIL_FROM = "The Observatory <support@observatory.example>"
CONFIRM_LINK = re.compile(r"https?://[^\s\"<>]+/newsletter/confirm/[A-Za-z0-9_.\-]+")
UNSUBSCRIBE_LINK = re.compile(r"https?://[^\s\"<>]+/newsletter/unsubscribe/[A-Za-z0-9_.\-]+")


def make_staff(role: StaffRole = StaffRole.EDITOR, email: str | None = None) -> StaffMember:
    member = create_or_update_staff(
        db.session(), email=email or f"{role.value}@observatory.example", role=role.value
    )
    db.session.commit()
    return member


def staff_session(app: Flask, member: StaffMember, environ: dict[str, str]) -> dict[str, object]:
    """The one place that knows how a signed-in staff session looks to Flask-Login. Session
    protection is "strong", so the session must also carry the identifier Flask-Login derives
    from the client's address and User-Agent, or the loader throws the session away."""
    with app.test_request_context(environ_base=environ):
        identifier = login_manager._session_identifier_generator()
    return {"_user_id": f"staff:{member.id}", "_fresh": True, "_id": identifier}


def sign_in_staff(client: FlaskClient, member: StaffMember) -> None:
    data = staff_session(client.application, member, dict(client.environ_base))
    with client.session_transaction() as session:
        session.update(data)


def staff_cookie(app: Flask, member: StaffMember, *, user_agent: str) -> dict[str, str]:
    """A session cookie for a browser with this User-Agent, for Playwright's add_cookies."""
    data = staff_session(app, member, {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": user_agent})
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    return {"name": app.config["SESSION_COOKIE_NAME"], "value": serializer.dumps(data)}


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
    """Run the outbox worker until nothing is due, against the captured SMTP server."""
    sender = SmtpSender.from_url(smtp.url, mail_from=MAIL_FROM)
    total = DeliveryReport()
    while True:
        report = deliver_due(
            db.session(), sender, batch_size=200, max_attempts=3, lease_seconds=60, now=now
        )
        total += report
        if report.claimed == 0:
            return total


def subscriber(email: str) -> Subscriber:
    db.session.expire_all()
    return db.session.scalars(select(Subscriber).where(Subscriber.email == email)).one()


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def confirm_link_in(text: str) -> str:
    match = CONFIRM_LINK.search(text)
    assert match, text
    return match.group(0)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]
