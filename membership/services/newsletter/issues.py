"""Newsletter issues before and during a send: write in Markdown, preview, test, follow progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.newsletter import issue_email
from membership.models import (
    EmailMessage,
    EmailStatus,
    IssueDelivery,
    IssueStatus,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from membership.services.errors import ServiceError
from membership.services.markdown import render_markdown
from membership.services.newsletter.links import UnsubscribeSigner, unsubscribe_url
from membership.services.outbox import queue_email

MAX_SUBJECT = 200
MAX_BODY = 200_000


class IssueError(ServiceError):
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
class IssuePreview:
    """The issue as a reader gets it, with a stand-in for their unsubscribe link."""

    text: str
    html: str


def preview_issue(
    config: Config, issue: NewsletterIssue, *, link_stand_in: str = "…"
) -> IssuePreview:
    text, html = issue_email(config, issue).bodies(unsubscribe_url(config, link_stand_in))
    return IssuePreview(text, html)


def send_test(
    session: Session,
    config: Config,
    issue: NewsletterIssue,
    *,
    to: str,
    now: datetime | None = None,
) -> EmailMessage | None:
    """One copy to a staff member. Its unsubscribe link is a real, signed one for id 0, which
    belongs to nobody: following it changes nothing and says it was a test."""
    url = UnsubscribeSigner(config).url(0, to)
    return queue_email(session, issue_email(config, issue, test=True).for_reader(to, url), now=now)


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


def recipient_count(session: Session, issue_id: int) -> int:
    """How many readers the issue was queued for: one delivery row each."""
    return (
        session.scalar(
            select(func.count())
            .select_from(IssueDelivery)
            .where(IssueDelivery.issue_id == issue_id)
        )
        or 0
    )


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
    """Counted from the delivery rows and their outbox messages, so it shows what the workers
    really did: a row still waiting for its message counts as queued, a row that will never get
    one (the reader left) as failed."""
    counts = dict(
        session.execute(
            select(EmailMessage.status, func.count())
            .join(IssueDelivery, IssueDelivery.email_message_id == EmailMessage.id)
            .where(IssueDelivery.issue_id == issue_id)
            .group_by(EmailMessage.status)
        ).all()
    )
    waiting, not_sent = session.execute(
        select(
            func.count().filter(IssueDelivery.not_sent_reason.is_(None)),
            func.count().filter(IssueDelivery.not_sent_reason.is_not(None)),
        ).where(IssueDelivery.issue_id == issue_id, IssueDelivery.email_message_id.is_(None))
    ).one()
    return IssueProgress(
        recipients=recipient_count(session, issue_id),
        queued=counts.get(EmailStatus.QUEUED, 0) + (waiting or 0),
        sending=counts.get(EmailStatus.SENDING, 0),
        sent=counts.get(EmailStatus.SENT, 0),
        failed=counts.get(EmailStatus.FAILED, 0) + (not_sent or 0),
    )
