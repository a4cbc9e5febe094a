"""Sending an issue: queue one delivery row per subscriber in its audience.

Each batch is one INSERT ... SELECT from the audience query, so the rows never pass through
Python; the outbox worker renders each reader's message when it reaches them
(`services.newsletter.delivery`). A job, so it commits batch by batch: a committed batch is kept
and a rerun resumes after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, literal, select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import (
    IssueDelivery,
    IssueStatus,
    NewsletterIssue,
    StaffMember,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from membership.services.newsletter.audiences import audience_condition, is_current_supporter
from membership.services.newsletter.issues import IssueError, recipient_count
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
    """Queue the issue for every subscriber in its audience, one delivery row each, in batches.

    Each batch is one statement over a range of subscriber ids, committed on its own, so after a
    crash a batch is either all there or not at all, and running this again queues exactly the
    subscribers without a row. The unique (issue, subscriber) key keeps two concurrent runs from
    queueing anyone twice. Whether a reader gets the support appeal is decided here, with the
    audience, and kept on their row. The caller passes `commit` (the request's or the CLI's
    session commit; tests pass one that fails on purpose).
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
    issue_id = issue.id
    audience = audience_condition(
        issue.audience, quiet_days=config.supporter_banner_quiet_days, now=when
    )
    current = is_current_supporter(quiet_days=config.supporter_banner_quiet_days, now=when)
    queued = batches = 0
    after = 0
    while True:
        upto = _batch_end(session, after, size)
        queued += _queue_range(session, issue_id, audience, current, after, upto, when)
        batches += 1
        commit()
        if upto is None:
            break
        after = upto
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


def _batch_end(session: Session, after: int, size: int) -> int | None:
    """The id of the `size`-th confirmed subscriber after `after`, or None when fewer are left
    (the last batch then runs to the end of the list).

    Keyset batches over `ix_subscriber_status_id`: as cheap for the last batch as for the first.
    """
    return session.scalar(
        select(Subscriber.id)
        .where(Subscriber.status == SubscriberStatus.CONFIRMED, Subscriber.id > after)
        .order_by(Subscriber.id)
        .offset(size - 1)
        .limit(1)
    )


def delivery_rows(
    issue_id: int,
    audience: ColumnElement[bool],
    current: ColumnElement[bool],
    after: int,
    upto: int | None,
    now: datetime,
) -> Select[Any]:
    """The SELECT a batch inserts: (issue, subscriber, appeal, queued at) for the audience's
    subscribers with ids in (after, upto]. Public so a test can check its plan."""
    table = IssueDelivery.__table__
    in_range = Subscriber.id > after if upto is None else Subscriber.id.between(after + 1, upto)
    return (
        select(
            literal(issue_id, type_=table.c.issue_id.type),
            Subscriber.id,
            case((current, False), else_=True),
            literal(now, type_=table.c.queued_at.type),
        )
        .where(audience, in_range)
        .order_by(Subscriber.id)
    )


def _queue_range(
    session: Session,
    issue_id: int,
    audience: ColumnElement[bool],
    current: ColumnElement[bool],
    after: int,
    upto: int | None,
    now: datetime,
) -> int:
    """One INSERT ... SELECT: a delivery row for each subscriber of the audience with an id in
    (after, upto] who has none for this issue yet; how many rows it added."""
    table = IssueDelivery.__table__
    rows = delivery_rows(issue_id, audience, current, after, upto, now)
    stmt = (
        dialect_insert(session, table)
        .from_select(["issue_id", "subscriber_id", "appeal", "queued_at"], rows)
        .on_conflict_do_nothing(index_elements=["issue_id", "subscriber_id"])
        # The driver's count of rows inserted; SQLAlchemy keeps it for an INSERT only if asked.
        .execution_options(preserve_rowcount=True)
    )
    result: Any = session.execute(stmt)
    return max(int(result.rowcount), 0)
