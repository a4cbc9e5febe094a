"""A progressive delay for wrong passwords, per address: after a few slips every further failure
doubles the wait before the next try, whichever network the guesses come from. Unknown addresses
count alike, so the delay tells nobody whether an account exists; the emailed link always works."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from membership.models import PasswordFailure
from membership.services.sql import insert_or_ignore

FREE_FAILURES = 3
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)


def delay_after(failures: int) -> timedelta:
    """How long to wait after `failures` wrong passwords in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    delay: timedelta = FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20)
    return min(delay, MAX_DELAY)


def wait_before_next_try(session: Session, address: str, now: datetime) -> timedelta | None:
    """The time left before this address may try a password again; None when it may now."""
    row = session.get(PasswordFailure, address)
    if row is None:
        return None
    left = row.last_failed_at + delay_after(row.failures) - now
    return left if left > timedelta(0) else None


def record_failure(session: Session, address: str, now: datetime) -> None:
    """One more wrong password; counted in the database, so concurrent guesses all count."""
    insert_or_ignore(
        session,
        PasswordFailure,
        {"email": address, "failures": 0, "last_failed_at": now},
        ["email"],
    )
    session.execute(
        update(PasswordFailure)
        .where(PasswordFailure.email == address)
        .values(failures=PasswordFailure.failures + 1, last_failed_at=now)
    )


def clear_failures(session: Session, address: str) -> None:
    session.execute(
        delete(PasswordFailure)
        .where(PasswordFailure.email == address)
        .execution_options(synchronize_session=False)
    )
