"""Job leases in the database: each periodic job runs once per period, however many workers run.

Periods are aligned to the Unix epoch in UTC (a daily job's period starts at 00:00 UTC, an hourly
one on the hour). A worker claims a job's period with one conditional UPDATE; the database lets
exactly one of several concurrent claimers change the row, so the others see 0 rows and move on.
A run that fails is retried in the same period after a backoff; a worker that dies mid-run loses
its lease when `leased_until` passes and another worker takes the period over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import false, or_, select, update
from sqlalchemy.orm import Session

from membership.models import JobLease
from membership.services.sql import insert_or_ignore

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Claim:
    """This worker owns `name`'s run for the period starting at `period_start`."""

    name: str
    token: str
    period_start: datetime


def period_start(now: datetime, every: timedelta) -> datetime:
    """The start of the period `now` falls in, periods of length `every` from the epoch."""
    seconds = int(every.total_seconds())
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def claim_job(
    session: Session,
    name: str,
    *,
    every: timedelta,
    lease: timedelta,
    now: datetime,
    token: str,
) -> Claim | None:
    """Claim this period's run of `name`, or None when it is done, running elsewhere or backing
    off. The caller commits at once, so other workers see the claim before the run starts."""
    insert_or_ignore(session, JobLease, {"name": name, "period_done": False, "failures": 0})
    start = period_start(now, every)
    result = session.execute(
        update(JobLease)
        .where(
            JobLease.name == name,
            # Never two runs of one job at once, even across a period boundary.
            or_(JobLease.leased_until.is_(None), JobLease.leased_until <= now),
            or_(
                JobLease.period_start.is_(None),
                JobLease.period_start < start,
                # This period's run failed or its worker died: retry once the backoff is over.
                (JobLease.period_done == false())
                & or_(JobLease.retry_at.is_(None), JobLease.retry_at <= now),
            ),
        )
        .values(
            period_start=start,
            period_done=False,
            leased_until=now + lease,
            leased_by=token[:80],
            retry_at=None,
            last_started_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    return Claim(name=name, token=token[:80], period_start=start)


def record_success(session: Session, claim: Claim, *, now: datetime, summary: str) -> bool:
    """Mark the period done; False when the lease was lost to another worker meanwhile."""
    return _finish(
        session,
        claim,
        period_done=True,
        leased_until=None,
        leased_by=None,
        failures=0,
        last_error=None,
        last_succeeded_at=now,
        last_summary=summary[:MAX_ERROR_LENGTH],
    )


def record_failure(session: Session, claim: Claim, *, now: datetime, error: str) -> bool:
    """Keep the period open and retry it after 1 minute, doubling per failure, at most an hour."""
    failures = (
        session.scalar(select(JobLease.failures).where(JobLease.name == claim.name)) or 0
    ) + 1
    delay = min(FIRST_RETRY_SECONDS * 2 ** min(failures - 1, 20), MAX_RETRY_SECONDS)
    return _finish(
        session,
        claim,
        period_done=False,
        leased_until=None,
        leased_by=None,
        failures=failures,
        retry_at=now + timedelta(seconds=delay),
        last_error=error[:MAX_ERROR_LENGTH],
    )


def _finish(session: Session, claim: Claim, **values: object) -> bool:
    result = session.execute(
        update(JobLease)
        .where(JobLease.name == claim.name, JobLease.leased_by == claim.token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def last_success(session: Session, name: str) -> datetime | None:
    return session.scalar(select(JobLease.last_succeeded_at).where(JobLease.name == name))
