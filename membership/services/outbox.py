"""The email outbox: queue mail in the business transaction, then claim, send and retry it from workers."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from membership.addresses import CONTROL_RE
from membership.emails.render import ComposedEmail
from membership.emails.sender import (
    InvalidEmailError,
    OutgoingEmail,
    check_email_fields,
)
from membership.models import EmailMessage, EmailStatus, utcnow
from membership.services.sql import dialect_insert, insert_or_ignore

logger = logging.getLogger("membership.outbox")

FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 6 * 3600
MAX_ERROR_LENGTH = 2000


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
    stmt = _claim(session, limit, now, lease_seconds, max_attempts, worker).returning(EmailMessage)
    options = {"synchronize_session": False, "populate_existing": True}
    claimed = session.scalars(stmt.execution_options(**options)).all()
    return sorted(claimed, key=lambda message: message.id)


def claim_outgoing(
    session: Session,
    *,
    limit: int,
    now: datetime,
    lease_seconds: int,
    max_attempts: int,
    worker: str | None = None,
) -> list[tuple[OutgoingEmail, str]]:
    """`claim_batch` for the sender: each message with its claim token, as plain values (no ORM
    objects for every later commit to expire)."""
    table = EmailMessage.__table__
    stmt = _claim(session, limit, now, lease_seconds, max_attempts, worker).returning(
        table.c.id,
        table.c.to_address,
        table.c.subject,
        table.c.text_body,
        table.c.html_body,
        table.c.headers,
        table.c.created_at,
        table.c.render_data,
        table.c.claimed_by,
    )
    rows = sorted(session.execute(stmt).all(), key=lambda row: int(row.id))
    return [
        (
            OutgoingEmail(
                id=row.id,
                to=row.to_address,
                subject=row.subject,
                text=row.text_body,
                html=row.html_body,
                headers=dict(row.headers or {}),
                created_at=row.created_at,
                render_data=row.render_data,
            ),
            row.claimed_by or "",
        )
        for row in rows
    ]


def _claim(
    session: Session,
    limit: int,
    now: datetime,
    lease_seconds: int,
    max_attempts: int,
    worker: str | None,
) -> Any:
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
    return (
        update(EmailMessage)
        .where(EmailMessage.id.in_(candidates))
        .values(
            status=EmailStatus.SENDING,
            claimed_until=now + timedelta(seconds=lease_seconds),
            claimed_by=token,
            attempts=EmailMessage.attempts + 1,
        )
    )


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


def _worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"
