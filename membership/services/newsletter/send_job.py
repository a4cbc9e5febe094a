"""Sending an issue: queue one outbox email and one delivery row per subscriber in its audience.

A job, so it commits batch by batch: one transaction for a whole list would hold its locks for
minutes and lose everything on a crash, while a committed batch is kept and a rerun resumes after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.newsletter import IssueEmail, issue_email
from membership.emails.render import ComposedEmail
from membership.emails.sender import InvalidEmailError, check_email_fields
from membership.models import (
    IssueDelivery,
    IssueStatus,
    NewsletterIssue,
    StaffMember,
    Subscriber,
    utcnow,
)
from membership.services.newsletter.appeal import issue_appeal
from membership.services.newsletter.audiences import audience_condition, is_current_supporter
from membership.services.newsletter.clicks import track_links
from membership.services.newsletter.issues import IssueError, recipient_count
from membership.services.newsletter.links import UnsubscribeSigner
from membership.services.outbox import queue_checked_emails
from membership.services.sql import dialect_insert
from membership.services.staff import audit


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


def send_issue_job(
    session: Session,
    config: Config,
    issue: NewsletterIssue,
    *,
    commit: Callable[[], None],
    actor: StaffMember | None = None,
    batch_size: int | None = None,
    now: datetime | None = None,
) -> SendReport:
    """Queue the issue for every subscriber in its audience, one outbox email each, in batches.

    Each batch commits its emails and IssueDelivery rows together, so after a crash a batch is
    either all there or not at all, and running this again picks up exactly the subscribers
    without a delivery row. The unique (issue, subscriber) key and the email's dedupe key keep
    two concurrent runs from queueing anyone twice. The caller passes `commit` (the request's or
    the CLI's session commit; tests pass one that fails on purpose).
    """
    when = now or utcnow()
    size = batch_size or config.newsletter_send_batch
    start_sending(session, issue, now=when)
    if actor is not None:
        audit.record(
            session,
            actor,
            "newsletter.sent",
            target_type="newsletter_issue",
            target_id=issue.id,
            details={"subject": issue.subject},
            now=when,
        )
    commit()
    signer = UnsubscribeSigner(config)
    issue_id = issue.id
    audience = audience_condition(
        issue.audience, quiet_days=config.supporter_banner_quiet_days, now=when
    )
    current = is_current_supporter(quiet_days=config.supporter_banner_quiet_days, now=when)
    appeal = issue_appeal(session, config, issue_id)
    # Rendered once per send each: supporters get the issue, everyone else the issue with the
    # appeal block.
    parts = (
        (current, track_links(issue_email(config, issue), config, issue_id)),
        (~current, track_links(issue_email(config, issue, appeal=appeal), config, issue_id)),
    )
    queued = batches = 0
    for part, template in parts:
        for batch in _unsent_in_audience(session, issue_id, and_(audience, part), size):
            queued += _queue_batch(session, issue_id, batch, template, signer, when)
            batches += 1
            commit()
    session.execute(
        update(NewsletterIssue)
        .where(NewsletterIssue.id == issue_id)
        .values(
            status=IssueStatus.SENT,
            send_finished_at=when,
            recipients=recipient_count(session, issue_id),
        )
    )
    commit()
    return SendReport(queued=queued, batches=batches, finished=True)


def _unsent_in_audience(
    session: Session, issue_id: int, audience: ColumnElement[bool], size: int
) -> Iterator[list[tuple[int, str]]]:
    """Batches of (id, email) of the issue's audience (confirmed subscribers, narrowed) without a
    delivery for this issue, by id.

    Keyset pagination on the id: each query starts after the last id seen, so it is as fast for
    the last batch as for the first and memory holds one batch at a time.
    """
    after = 0
    while True:
        rows = session.execute(
            select(Subscriber.id, Subscriber.email)
            .where(
                audience,
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
    issue_id: int,
    batch: list[tuple[int, str]],
    template: IssueEmail,
    signer: UnsubscribeSigner,
    now: datetime,
) -> int:
    emails: list[tuple[ComposedEmail, str]] = []
    for subscriber_id, address in batch:
        email = template.for_reader(address, signer.url(subscriber_id, address))
        if not emails:
            # Addresses were checked in full when they joined the list, and every message's
            # headers differ only in a URL we made: one full check per batch, and a cheap guard
            # per message below, is enough.
            check_email_fields(email.to, email.subject, email.headers)
        elif "\r" in address or "\n" in address or address.count("@") != 1:
            raise InvalidEmailError(f"subscriber {subscriber_id} has an unusable address")
        emails.append((email, f"newsletter:{issue_id}:{subscriber_id}"))
    inserted = queue_checked_emails(session, emails, now=now)
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
