"""Choosing an issue's audience and sending it later: scheduled at a time in the newsroom's zone,
cancellable until its send starts, started by the periodic job `send_scheduled_job`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import IssueStatus, NewsletterIssue, Subscriber
from membership.services.newsletter.audiences import AUDIENCES, audience_condition
from membership.services.newsletter.issues import IssueError
from membership.services.newsletter.send_job import SendReport, send_issue_job


def audience_size(session: Session, config: Config, audience: str, *, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Subscriber)
            .where(
                audience_condition(audience, quiet_days=config.supporter_banner_quiet_days, now=now)
            )
        )
        or 0
    )


def choose_audience(
    session: Session, config: Config, issue: NewsletterIssue, audience: str, *, now: datetime
) -> int:
    """Set who the issue goes to; how many that is now. Refuses an unknown or empty audience."""
    if audience not in AUDIENCES:
        raise IssueError("Choose one of the audiences listed.")
    if issue.status is not IssueStatus.DRAFT:
        raise IssueError("This issue is being sent or was sent; its audience is fixed.")
    size = audience_size(session, config, audience, now=now)
    if size == 0:
        raise IssueError(
            f"Nobody is in “{AUDIENCES[audience].label}” right now: the issue would reach no one."
        )
    issue.audience = audience
    session.flush()
    return size


def schedule_issue(
    session: Session,
    config: Config,
    issue: NewsletterIssue,
    *,
    audience: str,
    local_time: datetime,
    now: datetime,
) -> datetime:
    """Send the issue to `audience` at `local_time` (a wall-clock time in the newsroom's zone);
    the moment in UTC. A time that is not in the future is refused."""
    if local_time.tzinfo is None:
        local_time = local_time.replace(tzinfo=config.zone)
    when = local_time.astimezone(UTC)
    if when <= now:
        raise IssueError("That time has passed: choose a time in the future.")
    if not issue.body_markdown.strip():
        raise IssueError("Write something before scheduling: the issue is empty.")
    choose_audience(session, config, issue, audience, now=now)
    issue.scheduled_at = when
    session.flush()
    return when


def cancel_schedule(session: Session, issue: NewsletterIssue) -> None:
    """Back to an unscheduled draft; refused once the send has started."""
    claimed = session.execute(
        update(NewsletterIssue)
        .where(NewsletterIssue.id == issue.id, NewsletterIssue.status == IssueStatus.DRAFT)
        .values(scheduled_at=None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise IssueError("The send has started: it can no longer be cancelled.")
    session.expire(issue)
    session.flush()


def send_scheduled_job(
    session: Session, config: Config, *, now: datetime, commit: Callable[[], None]
) -> list[SendReport]:
    """Send every scheduled issue whose time has come (and resume one a crash interrupted).

    A job, so it commits in steps: the claim (draft -> sending, one UPDATE, so a cancel and a
    second worker both see it) commits before the batches, which commit as they go.
    """
    due = session.scalars(
        select(NewsletterIssue.id)
        .where(
            NewsletterIssue.status.in_([IssueStatus.DRAFT, IssueStatus.SENDING]),
            NewsletterIssue.scheduled_at.is_not(None),
            NewsletterIssue.scheduled_at <= now,
        )
        .order_by(NewsletterIssue.scheduled_at, NewsletterIssue.id)
    ).all()
    reports = []
    for issue_id in due:
        session.execute(
            update(NewsletterIssue)
            .where(NewsletterIssue.id == issue_id, NewsletterIssue.status == IssueStatus.DRAFT)
            .values(status=IssueStatus.SENDING, send_started_at=now)
            .execution_options(synchronize_session=False)
        )
        commit()
        issue = session.get(NewsletterIssue, issue_id)
        if issue is None or issue.status is not IssueStatus.SENDING:  # pragma: no cover - race
            continue
        reports.append(send_issue_job(session, config, issue, commit=commit, now=now))
    return reports
