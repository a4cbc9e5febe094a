"""Newsletter issues: write in Markdown, preview, test, and queue one email per confirmed subscriber."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.sender import InvalidEmailError, check_email_fields
from membership.models import (
    EmailMessage,
    EmailStatus,
    IssueDelivery,
    IssueStatus,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from membership.services.markdown import render_markdown
from membership.services.newsletter import UnsubscribeSigner, list_unsubscribe_headers
from membership.services.outbox import enqueue_email
from membership.services.sql import dialect_insert

# Stands for each reader's own unsubscribe link in the rendered email, filled in per recipient.
UNSUBSCRIBE_PLACEHOLDER = "%%UNSUBSCRIBE_URL%%"
MAX_SUBJECT = 200
MAX_BODY = 200_000


class IssueError(ValueError):
    """An issue cannot be saved or sent as asked; the message says why, for staff."""


def save_issue(
    session: Session,
    *,
    subject: str,
    body_markdown: str,
    issue: NewsletterIssue | None = None,
    staff_member_id: int | None = None,
) -> NewsletterIssue:
    subject = " ".join(subject.split())
    if not subject:
        raise IssueError("Give the issue a subject line.")
    if len(subject) > MAX_SUBJECT:
        raise IssueError(f"Keep the subject under {MAX_SUBJECT} characters.")
    if len(body_markdown) > MAX_BODY:
        raise IssueError("That issue is too long to send as one email.")
    if issue is None:
        issue = NewsletterIssue(created_by_id=staff_member_id, subject=subject)
        session.add(issue)
    elif issue.status is not IssueStatus.DRAFT:
        raise IssueError("This issue has been sent; it can no longer be changed.")
    issue.subject = subject
    issue.body_markdown = body_markdown.replace("\r\n", "\n")
    issue.body_html = render_markdown(issue.body_markdown)
    session.flush()
    return issue


@dataclass(frozen=True)
class RenderedIssue:
    """The issue as an email, with UNSUBSCRIBE_PLACEHOLDER where each reader's link goes."""

    subject: str
    text: str
    html: str

    def for_reader(self, unsubscribe_url: str) -> tuple[str, str]:
        return (
            self.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
            self.html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
        )


def render_issue(config: Config, issue: NewsletterIssue, *, test: bool = False) -> RenderedIssue:
    context: dict[str, Any] = {
        "config": config,
        "issue": issue,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "test": test,
    }
    return RenderedIssue(
        subject=f"[Test] {issue.subject}" if test else issue.subject,
        text=render_template("emails/newsletter_issue.txt", **context),
        html=render_template("emails/newsletter_issue.html", **context),
    )


def send_test(
    session: Session, config: Config, issue: NewsletterIssue, *, to: str
) -> EmailMessage | None:
    """One copy to a staff member. Its unsubscribe link is a real, signed one for id 0, which
    belongs to nobody: following it changes nothing and says it was a test."""
    rendered = render_issue(config, issue, test=True)
    url = UnsubscribeSigner(config).url(0, to)
    text, html = rendered.for_reader(url)
    return enqueue_email(
        session,
        kind="newsletter_test",
        to=to,
        subject=rendered.subject,
        text=text,
        html=html,
        headers=list_unsubscribe_headers(config, url),
    )


def all_issues(session: Session) -> list[NewsletterIssue]:
    return list(session.scalars(select(NewsletterIssue).order_by(NewsletterIssue.id.desc())))


def confirmed_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Subscriber)
            .where(Subscriber.status == SubscriberStatus.CONFIRMED)
        )
        or 0
    )


@dataclass(frozen=True)
class SendReport:
    queued: int  # queued by this call
    batches: int
    finished: bool


def start_sending(session: Session, issue: NewsletterIssue, *, now: datetime) -> None:
    """Draft -> sending. Sending (after a crash) stays sending: the send resumes."""
    if issue.status is IssueStatus.SENT:
        raise IssueError("This issue has already been sent to everyone on the list.")
    if not issue.body_markdown.strip():
        raise IssueError("Write something before sending: the issue is empty.")
    if issue.status is IssueStatus.DRAFT:
        issue.status = IssueStatus.SENDING
        issue.send_started_at = now
    session.flush()


def send_issue(
    session: Session,
    config: Config,
    issue: NewsletterIssue,
    *,
    commit: Callable[[], None],
    batch_size: int | None = None,
    now: datetime | None = None,
) -> SendReport:
    """Queue the issue for every confirmed subscriber, one outbox email each, in batches.

    Each batch commits its emails and IssueDelivery rows together, so after a crash a batch is
    either all there or not at all, and running this again picks up exactly the subscribers
    without a delivery row. The unique (issue, subscriber) key and the email's dedupe key keep
    two concurrent runs from queueing anyone twice. This function owns its transactions: the
    caller passes `commit` (tests pass one that fails on purpose).
    """
    when = now or utcnow()
    size = batch_size or config.newsletter_send_batch
    start_sending(session, issue, now=when)
    commit()
    rendered = render_issue(config, issue)
    signer = UnsubscribeSigner(config)
    issue_id = issue.id
    queued = batches = 0
    for batch in _unsent_confirmed(session, issue_id, size):
        queued += _queue_batch(session, config, issue_id, batch, rendered, signer, when)
        batches += 1
        commit()
    total = (
        session.scalar(
            select(func.count())
            .select_from(IssueDelivery)
            .where(IssueDelivery.issue_id == issue_id)
        )
        or 0
    )
    session.execute(
        update(NewsletterIssue)
        .where(NewsletterIssue.id == issue_id)
        .values(status=IssueStatus.SENT, send_finished_at=when, recipients=total)
    )
    commit()
    return SendReport(queued=queued, batches=batches, finished=True)


def _unsent_confirmed(
    session: Session, issue_id: int, size: int
) -> Iterator[list[tuple[int, str]]]:
    """Batches of (id, email) of confirmed subscribers without a delivery for this issue, by id.

    Keyset pagination on the id: each query starts after the last id seen, so it is as fast for
    the last batch as for the first and memory holds one batch at a time.
    """
    after = 0
    while True:
        rows = session.execute(
            select(Subscriber.id, Subscriber.email)
            .where(
                Subscriber.status == SubscriberStatus.CONFIRMED,
                Subscriber.id > after,
                ~exists().where(
                    IssueDelivery.issue_id == issue_id,
                    IssueDelivery.subscriber_id == Subscriber.id,
                ),
            )
            .order_by(Subscriber.id)
            .limit(size)
        ).all()
        if not rows:
            return
        batch = [(row[0], row[1]) for row in rows]
        yield batch
        after = batch[-1][0]


def _queue_batch(
    session: Session,
    config: Config,
    issue_id: int,
    batch: list[tuple[int, str]],
    rendered: RenderedIssue,
    signer: UnsubscribeSigner,
    now: datetime,
) -> int:
    emails: list[dict[str, Any]] = []
    # Addresses were checked in full when they joined the list, and every row's headers differ
    # only in a URL we made; one full check per batch plus a cheap guard per row is enough.
    first_id, first_address = batch[0]
    check_email_fields(
        first_address,
        rendered.subject,
        list_unsubscribe_headers(config, signer.url(first_id, first_address)),
    )
    for subscriber_id, address in batch:
        if "\r" in address or "\n" in address or address.count("@") != 1:
            raise InvalidEmailError(f"subscriber {subscriber_id} has an unusable address")
        url = signer.url(subscriber_id, address)
        headers = list_unsubscribe_headers(config, url)
        text, html = rendered.for_reader(url)
        emails.append(
            {
                "kind": "newsletter",
                "to_address": address,
                "subject": rendered.subject,
                "text_body": text,
                "html_body": html,
                "headers": headers,
                "status": EmailStatus.QUEUED,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "dedupe_key": f"newsletter:{issue_id}:{subscriber_id}",
            }
        )
    table = EmailMessage.__table__
    stmt = (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id, table.c.dedupe_key)
    )
    inserted = session.execute(stmt, emails).all()
    deliveries = [
        {
            "issue_id": issue_id,
            "subscriber_id": int(dedupe_key.rpartition(":")[2]),
            "email_message_id": email_id,
            "queued_at": now,
        }
        for email_id, dedupe_key in inserted
    ]
    if deliveries:
        session.execute(
            dialect_insert(session, IssueDelivery.__table__).on_conflict_do_nothing(
                index_elements=["issue_id", "subscriber_id"]
            ),
            deliveries,
        )
    return len(deliveries)


@dataclass(frozen=True)
class IssueProgress:
    recipients: int
    queued: int
    sending: int
    sent: int
    failed: int

    @property
    def waiting(self) -> int:
        return self.queued + self.sending


def issue_progress(session: Session, issue_id: int) -> IssueProgress:
    """Counted from the outbox rows themselves, so it shows what the workers really did."""
    counts = dict(
        session.execute(
            select(EmailMessage.status, func.count())
            .join(IssueDelivery, IssueDelivery.email_message_id == EmailMessage.id)
            .where(IssueDelivery.issue_id == issue_id)
            .group_by(EmailMessage.status)
        ).all()
    )
    recipients = (
        session.scalar(
            select(func.count())
            .select_from(IssueDelivery)
            .where(IssueDelivery.issue_id == issue_id)
        )
        or 0
    )
    return IssueProgress(
        recipients=recipients,
        queued=counts.get(EmailStatus.QUEUED, 0),
        sending=counts.get(EmailStatus.SENDING, 0),
        sent=counts.get(EmailStatus.SENT, 0),
        failed=counts.get(EmailStatus.FAILED, 0),
    )
