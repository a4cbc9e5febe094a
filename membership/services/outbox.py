"""The email outbox: queue mail in the business transaction, then claim, send and retry it from workers."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from membership.addresses import CONTROL_RE
from membership.emails.render import ComposedEmail
from membership.emails.sender import (
    InvalidEmailError,
    MailConnection,
    MailDeliveryError,
    OutgoingEmail,
    RecipientRejected,
    Sender,
    check_email_fields,
)
from membership.models import EmailMessage, EmailStatus, utcnow
from membership.services.sql import dialect_insert, insert_or_ignore
from membership.services.suppression import suppress_address

logger = logging.getLogger("membership.outbox")

FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 6 * 3600
MAX_ERROR_LENGTH = 2000


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


def queue_email(
    session: Session,
    email: ComposedEmail,
    *,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> EmailMessage | None:
    """Queue a message composed in `membership.emails` in the caller's transaction; None when
    `dedupe_key` was already used.

    ON CONFLICT DO NOTHING rather than check-then-insert, so concurrent duplicates end in one row
    without an IntegrityError spoiling the caller's transaction.
    """
    check_email_fields(email.to, email.subject, email.headers)
    values = _row(email, dedupe_key, now or utcnow())
    return insert_or_ignore(session, EmailMessage, values, ["dedupe_key"])


def queue_email_or_record_failure(
    session: Session,
    email: ComposedEmail,
    *,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> EmailMessage | None:
    """`queue_email` for money handlers: a mail that can never be sent (an address our mailer
    refuses) must not undo the payment that caused it, or Stripe's retries would fail for ever.
    It is recorded as failed, with the reason, for staff to see; None when `dedupe_key` was
    already used."""
    try:
        return queue_email(session, email, dedupe_key=dedupe_key, now=now)
    except InvalidEmailError as error:
        logger.warning("%s email not queued: %s", email.kind, error)
        values = _row(email, dedupe_key, now or utcnow())
        values.update(
            to_address=CONTROL_RE.sub("", email.to.strip())[:320],
            status=EmailStatus.FAILED,
            last_error=f"not queued: {error}"[:MAX_ERROR_LENGTH],
        )
        return insert_or_ignore(session, EmailMessage, values, ["dedupe_key"])


def queue_money_email(
    session: Session, email: ComposedEmail, *, dedupe_key: str, now: datetime | None = None
) -> EmailStatus | None:
    """`queue_email_or_record_failure` in one Core statement, for the webhook's hot path: the
    queued row's status (FAILED when the address can never be sent to), or None when
    `dedupe_key` was already used. No ORM object is made: nothing here reads the row again."""
    values = _row(email, dedupe_key, now or utcnow())
    try:
        check_email_fields(email.to, email.subject, email.headers)
    except InvalidEmailError as error:
        logger.warning("%s email not queued: %s", email.kind, error)
        values.update(
            to_address=CONTROL_RE.sub("", email.to.strip())[:320],
            status=EmailStatus.FAILED,
            last_error=f"not queued: {error}"[:MAX_ERROR_LENGTH],
        )
    status = session.execute(_insert_returning_status(session), values).scalar()
    return None if status is None else EmailStatus(status)


def _insert_returning_status(session: Session) -> Any:
    table = EmailMessage.__table__
    return (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.status)
    )


def enqueue_email(
    session: Session,
    *,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> EmailMessage | None:
    """`queue_email` for callers that have not moved their composition to `membership.emails`."""
    email = ComposedEmail(
        kind=kind, to=to, subject=subject, text=text, html=html, headers=dict(headers or {})
    )
    return queue_email(session, email, dedupe_key=dedupe_key, now=now)


def queue_checked_emails(
    session: Session, emails: Sequence[tuple[ComposedEmail, str]], *, now: datetime
) -> list[tuple[int, str]]:
    """Queue many (message, dedupe key) pairs in one statement; (id, dedupe key) of each one
    queued, leaving out keys already used.

    For bulk senders that checked the fields themselves: `check_email_fields` costs about as
    much per message as the rest of queueing it, and a send whose messages differ only in an
    address from the list and a URL we made can check one message per batch instead.
    """
    if not emails:
        return []
    table = EmailMessage.__table__
    stmt = (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id, table.c.dedupe_key)
    )
    rows = [_row(email, dedupe_key, now) for email, dedupe_key in emails]
    return [(row[0], row[1]) for row in session.execute(stmt, rows)]


def _row(email: ComposedEmail, dedupe_key: str | None, now: datetime) -> dict[str, Any]:
    return {
        "kind": email.kind,
        "to_address": email.to.strip(),
        "subject": email.subject,
        "text_body": email.text,
        "html_body": email.html,
        "render_data": email.render_data,
        "headers": email.headers,
        "status": EmailStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "dedupe_key": dedupe_key,
    }


def claim_batch(
    session: Session,
    *,
    limit: int,
    now: datetime,
    lease_seconds: int,
    max_attempts: int,
    worker: str | None = None,
) -> list[EmailMessage]:
    """Take up to `limit` due messages for this worker, atomically; other workers never get them.

    Due means queued with `next_attempt_at` reached, or sending with an expired lease (its worker
    died). On PostgreSQL the candidates are locked with FOR UPDATE SKIP LOCKED, so concurrent
    workers pass over each other's rows instead of waiting; SQLite has one writer, which makes the
    single UPDATE atomic there. The attempt is counted here, when it starts, so a message that
    kills its worker every time still runs out of attempts.
    """
    _give_up_on_abandoned(session, now=now, max_attempts=max_attempts)
    # Unique per claim; the worker's name after it only helps someone reading the table.
    token = f"{uuid.uuid4().hex[:12]}:{worker or _worker_name()}"[:80]
    due = or_(
        and_(EmailMessage.status == EmailStatus.QUEUED, EmailMessage.next_attempt_at <= now),
        and_(EmailMessage.status == EmailStatus.SENDING, EmailMessage.claimed_until <= now),
    )
    candidates = (
        select(EmailMessage.id)
        .where(due)
        .order_by(EmailMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(EmailMessage)
        .where(EmailMessage.id.in_(candidates))
        .values(
            status=EmailStatus.SENDING,
            claimed_until=now + timedelta(seconds=lease_seconds),
            claimed_by=token,
            attempts=EmailMessage.attempts + 1,
        )
        .returning(EmailMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted(session.scalars(stmt).all(), key=lambda message: message.id)


def _give_up_on_abandoned(session: Session, *, now: datetime, max_attempts: int) -> None:
    """Expired leases on messages with no attempts left: their workers died, maybe because of them."""
    session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.status == EmailStatus.SENDING,
            EmailMessage.claimed_until <= now,
            EmailMessage.attempts >= max_attempts,
        )
        .values(
            status=EmailStatus.FAILED,
            claimed_until=None,
            claimed_by=None,
            last_error="the worker sending it stopped before recording a result",
        )
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, message: EmailMessage, *, now: datetime) -> None:
    message.status = EmailStatus.SENT
    message.sent_at = now
    message.claimed_until = None
    message.claimed_by = None
    session.flush()


def mark_failed(
    session: Session, message: EmailMessage, *, error: str, now: datetime, max_attempts: int
) -> EmailStatus:
    """Put the message back with exponential backoff, or fail it once its attempts are used up."""
    message.last_error = error[:MAX_ERROR_LENGTH]
    message.claimed_until = None
    message.claimed_by = None
    if message.attempts >= max_attempts:
        message.status = EmailStatus.FAILED
    else:
        message.status = EmailStatus.QUEUED
        message.next_attempt_at = now + retry_delay(message.attempts)
    session.flush()
    return message.status


def retry_delay(attempts: int) -> timedelta:
    """1 minute after the first failure, doubling each time, at most 6 hours."""
    exponent = min(max(attempts - 1, 0), 20)
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2**exponent, MAX_RETRY_SECONDS))


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
    claimed = claim_batch(
        session,
        limit=batch_size,
        now=now or utcnow(),
        lease_seconds=lease_seconds,
        max_attempts=max_attempts,
        worker=worker,
    )
    batch = [(_outgoing(message), message.claimed_by or "") for message in claimed]
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
    message = session.get(EmailMessage, message_id)
    if message is None or message.claimed_by != token:
        # Our lease ran out and another worker claimed the message; its result is the one to keep.
        logger.warning("email %s: lease lost before its result was recorded", message_id)
        session.rollback()
        return DeliveryReport()
    if failure is None:
        mark_sent(session, message, now=when)
        session.commit()
        return DeliveryReport(sent=1)
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


def _outgoing(message: EmailMessage) -> OutgoingEmail:
    return OutgoingEmail(
        id=message.id,
        to=message.to_address,
        subject=message.subject,
        text=message.text_body,
        html=message.html_body,
        headers=dict(message.headers),
        created_at=message.created_at,
        render_data=message.render_data,
    )


def _worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"
