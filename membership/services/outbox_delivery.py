"""Outbox delivery: claim a batch, send it over one SMTP connection, record each result.

The queue and its claims are `services.outbox`; this is the worker's side of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Engine, Table, text, update
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

SENT_PER_COMMIT = 10


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
    workers see it, a failure at once, and sends every `SENT_PER_COMMIT` messages (on a
    connection held for the batch), so a crash mid-batch re-sends only a few.
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
    with _held_connection(session) as results:
        sent = _SentLog(results, now)
        try:
            with sender.connect() as connection:
                while pending:
                    email, token = pending.pop(0)
                    failure = _send_one(connection, email)
                    if failure is None:
                        report += sent.add(email.id, token)
                    else:
                        report += sent.flush()
                        report += _record(session, email.id, token, failure, now, max_attempts)
        except MailDeliveryError as error:
            report += sent.flush()
            # No connection (or it broke for good): every message not yet tried is retried later.
            for email, token in pending:
                failure = _Failure(str(error), permanent=False)
                report += _record(session, email.id, token, failure, now, max_attempts)
        finally:
            report += sent.flush()
    return report


@contextmanager
def _held_connection(session: Session) -> Iterator[Connection]:
    """A database connection kept for the whole batch, for the sends' results: one pool
    check-out (and liveness ping) per batch instead of one per message."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            yield connection
    else:
        yield bind


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
    failure: _Failure,
    now: datetime | None,
    max_attempts: int,
) -> DeliveryReport:
    when = now or utcnow()
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


class _SentLog:
    """Sends recorded a few at a time: one UPDATE (that checks each lease) and one commit per
    `SENT_PER_COMMIT` messages, and before any failure is recorded. A crash re-sends at most
    that many; a crash between a send and its commit always meant sending again."""

    def __init__(self, results: Connection, now: datetime | None) -> None:
        self.results = results
        self.now = now
        self.waiting: list[tuple[int, str]] = []

    def add(self, message_id: int, token: str) -> DeliveryReport:
        self.waiting.append((message_id, token))
        return self.flush() if len(self.waiting) >= SENT_PER_COMMIT else DeliveryReport()

    def flush(self) -> DeliveryReport:
        if not self.waiting:
            return DeliveryReport()
        waiting, self.waiting = self.waiting, []
        table = cast(Table, EmailMessage.__table__)
        # One claim token per batch: the lease check is the same for every id.
        tokens = {token for _id, token in waiting}
        ids = [message_id for message_id, _token in waiting]
        with self.results.begin():
            if self.results.dialect.name == "postgresql":
                # A crash that loses this commit only sends these messages again, as a crash
                # before it would: PostgreSQL need not wait for the disk before the next send.
                # LOCAL: this transaction only, never other work on the connection.
                self.results.execute(text("SET LOCAL synchronous_commit TO OFF"))
            recorded = set(
                self.results.scalars(
                    update(table)
                    .where(table.c.id.in_(ids), table.c.claimed_by.in_(tokens))
                    .values(
                        status=EmailStatus.SENT,
                        sent_at=self.now or utcnow(),
                        claimed_until=None,
                        claimed_by=None,
                    )
                    .returning(table.c.id)
                )
            )
        for message_id in ids:
            if message_id not in recorded:
                # Our lease ran out and another worker claimed it; its result is the one to keep.
                logger.warning("email %s: lease lost before its result was recorded", message_id)
        return DeliveryReport(sent=len(recorded))
