"""Outbox delivery: claim a batch, send it over one SMTP connection, record each result.

The queue and its claims are `services.outbox`; this is the worker's side of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, update
from sqlalchemy.orm import Session

from membership.emails.sender import (
    MailConnection,
    MailDeliveryError,
    OutgoingEmail,
    RecipientRejected,
    Sender,
)
from membership.models import EmailMessage, EmailStatus, utcnow
from membership.services.outbox import claim_outgoing, mark_failed
from membership.services.suppression import suppress_address

logger = logging.getLogger("membership.outbox")


@dataclass(frozen=True)
class DeliveryReport:
    """What one batch did: sent, given up on (failed), or put back for a later attempt (retried)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.failed + self.retried

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + other.sent, self.failed + other.failed, self.retried + other.retried
        )


def deliver_due_job(
    session: Session,
    sender: Sender,
    *,
    batch_size: int,
    max_attempts: int,
    lease_seconds: int,
    now: datetime | None = None,
    worker: str | None = None,
) -> DeliveryReport:
    """Claim one batch, send it outside any transaction, record each result as it comes.

    A job, so it commits in steps: the claim is committed before the slow sending so other
    workers see it, and each result at once so a crash mid-batch re-sends as little as possible.
    """
    batch = claim_outgoing(
        session,
        limit=batch_size,
        now=now or utcnow(),
        lease_seconds=lease_seconds,
        max_attempts=max_attempts,
        worker=worker,
    )
    session.commit()
    if not batch:
        return DeliveryReport()
    report = DeliveryReport()
    pending = list(batch)
    try:
        with sender.connect() as connection:
            while pending:
                email, token = pending.pop(0)
                failure = _send_one(connection, email)
                report += _record(session, email.id, token, failure, now, max_attempts)
    except MailDeliveryError as error:
        # No connection (or it broke for good): every message not yet tried is retried later.
        for email, token in pending:
            failure = _Failure(str(error), permanent=False)
            report += _record(session, email.id, token, failure, now, max_attempts)
    return report


@dataclass(frozen=True)
class _Failure:
    error: str
    permanent: bool  # the server refused the recipient for good (SMTP 5xx)


def _send_one(connection: MailConnection, email: OutgoingEmail) -> _Failure | None:
    try:
        connection.send(email)
    except RecipientRejected as error:
        return _Failure(str(error), permanent=True)
    except MailDeliveryError as error:
        return _Failure(str(error), permanent=False)
    return None


def _record(
    session: Session,
    message_id: int,
    token: str,
    failure: _Failure | None,
    now: datetime | None,
    max_attempts: int,
) -> DeliveryReport:
    when = now or utcnow()
    if failure is None:
        return _record_sent(session, message_id, token, when)
    message = session.get(EmailMessage, message_id)
    if message is None or message.claimed_by != token:
        # Our lease ran out and another worker claimed the message; its result is the one to keep.
        logger.warning("email %s: lease lost before its result was recorded", message_id)
        session.rollback()
        return DeliveryReport()
    logger.warning("email %s to %s not sent: %s", message.id, message.to_address, failure.error)
    if failure.permanent:
        # A 5xx for the recipient: no retry, and no more newsletters or lifecycle email to it.
        suppress_address(
            session, message.to_address, reason="bounce", detail=failure.error, now=when
        )
    status = mark_failed(
        session,
        message,
        error=failure.error,
        now=when,
        max_attempts=message.attempts if failure.permanent else max_attempts,
    )
    session.commit()
    return DeliveryReport(failed=1) if status is EmailStatus.FAILED else DeliveryReport(retried=1)


def _record_sent(session: Session, message_id: int, token: str, when: datetime) -> DeliveryReport:
    """One UPDATE that checks the lease and records the send, then its commit: no ORM load."""
    table = cast(Table, EmailMessage.__table__)
    result = session.execute(
        update(table)
        .where(table.c.id == message_id, table.c.claimed_by == token)
        .values(status=EmailStatus.SENT, sent_at=when, claimed_until=None, claimed_by=None)
    )
    session.commit()
    if cast(CursorResult[Any], result).rowcount == 0:
        # Our lease ran out and another worker claimed the message; its result is the one to keep.
        logger.warning("email %s: lease lost before its result was recorded", message_id)
        return DeliveryReport()
    return DeliveryReport(sent=1)
