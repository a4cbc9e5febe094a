"""A send queues delivery rows only; the outbox worker makes each reader's copy when it reaches
them: their own signed unsubscribe link, nobody twice, nobody who left or bounced since."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from helpers.factories import count
from helpers.newsletter import MAIL_FROM, deliver, subscriber
from helpers.smtp_capture import SmtpCapture
from membership.emails.newsletter import issue_email
from membership.emails.sender import SmtpSender
from membership.extensions import db, payments
from membership.models import (
    EmailMessage,
    EmailStatus,
    IssueDelivery,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from membership.services.newsletter import issues as issues_service
from membership.services.newsletter.delivery import IssueCopies, dedupe_key, make_issue_messages
from membership.services.newsletter.links import UnsubscribeSigner
from membership.services.newsletter.send_job import send_issue_job
from membership.services.outbox import queue_email
from membership.services.suppression import suppress_address
from membership.worker.loop import Worker


def send_to(*addresses: str) -> NewsletterIssue:
    now = datetime.now(UTC)
    for address in addresses:
        db.session.add(
            Subscriber(email=address, status=SubscriberStatus.CONFIRMED, confirmed_at=now)
        )
    issue = issues_service.save_issue(
        db.session(), subject="This week", body_markdown="## Hello\n\nNews *here*."
    )
    db.session.commit()
    config = current_app.config["MEMBERSHIP"]
    send_issue_job(db.session(), config, issue, commit=db.session.commit)
    return issue


@pytest.mark.usefixtures("app_context")
def test_the_worker_makes_each_copy_with_the_readers_own_link(
    app: Flask, smtp: SmtpCapture
) -> None:
    issue = send_to("ann@example.org", "bob@example.org")
    # Queued: two delivery rows, no message yet; the staff page counts them as queued.
    assert count(IssueDelivery) == 2 and count(EmailMessage) == 0
    progress = issues_service.issue_progress(db.session(), issue.id)
    assert (progress.recipients, progress.queued, progress.sent) == (2, 2, 0)

    config = app.config["MEMBERSHIP"].with_overrides(mail_url=smtp.url)
    worker = Worker(
        db.session,
        config,
        payments.gateway,
        SmtpSender.from_url(smtp.url, mail_from=MAIL_FROM),
        jobs=[],
        clock=utcnow,
    )
    report = worker.tick()
    assert report.outbox.sent == 2
    signer = UnsubscribeSigner(config)
    for message in smtp.messages:
        reader = subscriber(str(message["To"]))
        url = signer.url(reader.id, reader.email)
        assert str(message["List-Unsubscribe"]).startswith(f"<{url}>, <mailto:")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert url in text and url in html
        assert "News" in text and "<em>here</em>" in html
        other = "bob@example.org" if reader.email == "ann@example.org" else "ann@example.org"
        assert other not in text + html
    progress = issues_service.issue_progress(db.session(), issue.id)
    assert (progress.recipients, progress.sent, progress.waiting) == (2, 2, 0)
    # Nothing left to make or send.
    assert worker.tick().outbox.claimed == 0
    assert len(smtp.messages) == 2


@pytest.mark.usefixtures("app_context")
def test_an_address_suppressed_after_the_send_gets_no_copy(app: Flask, smtp: SmtpCapture) -> None:
    issue = send_to("kept@example.org", "bounced@example.org")
    suppress_address(db.session(), "bounced@example.org", reason="bounce", now=utcnow())
    db.session.commit()
    deliver(smtp)
    assert [str(m["To"]) for m in smtp.messages] == ["kept@example.org"]
    row = db.session.scalars(
        select(IssueDelivery).where(
            IssueDelivery.subscriber_id == subscriber("bounced@example.org").id
        )
    ).one()
    assert row.email_message_id is None and "suppression" in (row.not_sent_reason or "")
    progress = issues_service.issue_progress(db.session(), issue.id)
    assert (progress.sent, progress.failed, progress.waiting) == (1, 1, 0)


@pytest.mark.usefixtures("app_context")
def test_a_copy_already_in_the_outbox_is_recorded_not_queued_again(
    app: Flask, smtp: SmtpCapture
) -> None:
    issue = send_to("ann@example.org", "bob@example.org")
    config = app.config["MEMBERSHIP"]
    ann = subscriber("ann@example.org")
    # A copy queued under the reader's key, as by a run that stopped before recording it.
    url = UnsubscribeSigner(config).url(ann.id, ann.email)
    earlier = queue_email(
        db.session(),
        issue_email(config, issue).for_reader(ann.email, url),
        dedupe_key=dedupe_key(issue.id, ann.id),
    )
    db.session.commit()
    assert earlier is not None
    assert make_issue_messages(db.session(), config, limit=10) == 2
    db.session.commit()
    row = db.session.scalars(
        select(IssueDelivery).where(IssueDelivery.subscriber_id == ann.id)
    ).one()
    assert row.email_message_id == earlier.id
    assert count(EmailMessage) == 2
    deliver(smtp)
    assert sorted(str(m["To"]) for m in smtp.messages) == ["ann@example.org", "bob@example.org"]


def test_outbox_work_makes_and_sends_the_copies(
    app_factory: Callable[..., Flask], smtp: SmtpCapture
) -> None:
    worker_app = app_factory(mail_url=smtp.url)
    with worker_app.app_context():
        send_to(*(f"reader{n}@example.org" for n in range(5)))
    result = worker_app.test_cli_runner().invoke(args=["outbox", "work", "--once", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(str(m["To"]) for m in smtp.messages) == [
        f"reader{n}@example.org" for n in range(5)
    ]
    with worker_app.app_context():
        statuses = db.session.scalars(select(EmailMessage.status)).all()
        assert statuses == [EmailStatus.SENT] * 5


@pytest.mark.usefixtures("app_context")
def test_the_worker_keeps_a_rendering_for_a_minute(app: Flask) -> None:
    issue = send_to("ann@example.org")
    ann = subscriber("ann@example.org")
    seconds = [0.0]
    copies = IssueCopies(app.config["MEMBERSHIP"], keep_seconds=60, clock=lambda: seconds[0])

    def subject_now() -> str:
        return copies.for_reader(db.session(), issue.id, True, ann.id, ann.email).subject

    assert subject_now() == "This week"
    # Only to see which rendering a copy comes from: a sent issue cannot be edited.
    db.session.get(NewsletterIssue, issue.id).subject = "Edited"  # type: ignore[union-attr]
    db.session.flush()
    seconds[0] = 59.0
    assert subject_now() == "This week"
    seconds[0] = 61.0
    assert subject_now() == "Edited"
