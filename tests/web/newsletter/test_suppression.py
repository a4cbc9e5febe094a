"""Bounces and complaints: a 5xx from our SMTP server and an ESP's list both suppress an address,
which then gets no newsletter and no lifecycle email, and shows as suppressed to staff."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from helpers.factories import count, make_donation, make_supporter
from helpers.lifecycle import run_and_deliver
from helpers.newsletter import deliver
from helpers.smtp_capture import SmtpCapture
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import (
    EmailSuppression,
    NewsletterIssue,
    StaffRole,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from membership.services.newsletter.send_job import send_issue_job

pytestmark = pytest.mark.usefixtures("app_context")


def test_suppress_imports_an_esp_list_and_reports_bad_rows(app: Flask, tmp_path: Path) -> None:
    source = tmp_path / "bounces.csv"
    source.write_text(
        "Email Address,Reason\nOne@Example.org,hard bounce\nnot-an-address,x\ntwo@example.org,\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["newsletter", "suppress", str(source), "--reason", "complaint"])
    assert result.exit_code == 0, result.output
    assert "2 address(es) suppressed, 0 already were." in result.output
    assert "line 3" in result.output
    again = runner.invoke(args=["newsletter", "suppress", str(source)])
    assert "0 address(es) suppressed, 2 already were." in again.output
    row = db.session.get(EmailSuppression, "one@example.org")
    assert row is not None and row.reason == "complaint"
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02")
    refused = runner.invoke(args=["newsletter", "suppress", str(binary)])
    assert refused.exit_code != 0 and "binary file" in refused.output
    assert count(EmailSuppression) == 2


def test_a_bounce_stops_newsletters_and_lifecycle_email(app: Flask, smtp: SmtpCapture) -> None:
    config = app.config["MEMBERSHIP"]
    for address in ("kept@example.org", "bouncing@example.org"):
        db.session.add(Subscriber(email=address, status=SubscriberStatus.CONFIRMED))
    issue = NewsletterIssue(subject="One", body_markdown="Hello.", body_html="<p>Hello.</p>")
    db.session.add(issue)
    db.session.commit()
    smtp.refuse.add("bouncing@example.org")
    send_issue_job(db.session(), config, issue, commit=db.session.commit)
    deliver(smtp)
    assert db.session.get(EmailSuppression, "bouncing@example.org") is not None

    second = NewsletterIssue(subject="Two", body_markdown="Again.", body_html="<p>Again.</p>")
    db.session.add(second)
    db.session.commit()
    assert send_issue_job(db.session(), config, second, commit=db.session.commit).queued == 1
    deliver(smtp)
    assert [(str(m["To"]), str(m["Subject"])) for m in smtp.messages] == [
        ("kept@example.org", "One"),
        ("kept@example.org", "Two"),
    ]
    # Lifecycle email skips the address too (a first gift would bring the welcome note).
    supporter = make_supporter("bouncing@example.org")
    make_donation(supporter, paid_at=utcnow())
    assert run_and_deliver(smtp, utcnow()) == []
    # Staff see it on the list.
    editor = staff_client(app, make_staff(StaffRole.EDITOR))
    listing = editor.get("/staff/newsletter?q=bouncing").get_data(as_text=True)
    assert "(suppressed: bounce; never mailed)" in listing
