"""Making each reader's copy of an issue when the outbox worker reaches their delivery row.

A send only queues `IssueDelivery` rows (`send_job`). Before each outbox batch the worker calls
`make_issue_messages`, which takes the oldest rows still waiting, renders the issue once per
(issue, appeal or not), puts each reader's own signed unsubscribe link in the bodies and the
List-Unsubscribe headers, queues the messages and records them on their rows, in the worker's
transaction. A row whose reader left the list, or whose address is suppressed, gets a reason
instead of a message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.newsletter import IssueEmail, issue_email
from membership.emails.render import ComposedEmail
from membership.emails.sender import InvalidEmailError, check_email_fields
from membership.models import (
    EmailMessage,
    EmailSuppression,
    IssueDelivery,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from membership.services.newsletter.appeal import issue_appeal
from membership.services.newsletter.clicks import track_links
from membership.services.newsletter.links import UnsubscribeSigner
from membership.services.outbox import queue_checked_emails

logger = logging.getLogger("membership.outbox")

UNSUBSCRIBED = "not sent: the reader unsubscribed"
SUPPRESSED = "not sent: the address is on the suppression list"


def dedupe_key(issue_id: int, subscriber_id: int) -> str:
    """The outbox key of one reader's copy: the same copy is never queued twice."""
    return f"newsletter:{issue_id}:{subscriber_id}"


def make_issue_messages_job(
    session: Session,
    config: Config,
    *,
    limit: int,
    now: datetime | None = None,
    copies: IssueCopies | None = None,
) -> int:
    """`make_issue_messages` for whatever runs the outbox (the worker, `outbox work`), before
    each batch: commits. A database error propagates (the worker backs off); any other error is
    logged and leaves the rows waiting, so a broken issue cannot stop receipts going out."""
    try:
        made = make_issue_messages(session, config, limit=limit, now=now, copies=copies)
    except DBAPIError:
        session.rollback()
        raise
    except Exception:  # noqa: BLE001 - the outbox batch after this must still run
        session.rollback()
        logger.exception("newsletter copies not made")
        return 0
    session.commit()
    return made


def make_issue_messages(
    session: Session,
    config: Config,
    *,
    limit: int,
    now: datetime | None = None,
    copies: IssueCopies | None = None,
) -> int:
    """Queue the outbox messages of up to `limit` waiting delivery rows, oldest first; how many
    rows were dealt with (a message made, or a reason recorded). Flushes; the caller commits.

    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED, so workers running at once
    take different rows; the outbox's unique dedupe key is the second guard against a copy
    being queued twice.
    """
    when = now or utcnow()
    suppressed = exists().where(EmailSuppression.address == Subscriber.email)
    rows = session.execute(
        select(
            IssueDelivery.id,
            IssueDelivery.issue_id,
            IssueDelivery.subscriber_id,
            IssueDelivery.appeal,
            Subscriber.email,
            Subscriber.status,
            suppressed.label("suppressed"),
        )
        .join(Subscriber, Subscriber.id == IssueDelivery.subscriber_id)
        .where(IssueDelivery.email_message_id.is_(None), IssueDelivery.not_sent_reason.is_(None))
        .order_by(IssueDelivery.id)
        .limit(limit)
        .with_for_update(of=IssueDelivery, skip_locked=True)
    ).all()
    if not rows:
        return 0
    copies = copies or IssueCopies(config)
    emails: list[tuple[ComposedEmail, str]] = []
    delivery_of: dict[str, int] = {}
    reasons: list[dict[str, Any]] = []
    for delivery_id, issue_id, subscriber_id, appeal, address, status, is_suppressed in rows:
        if status is not SubscriberStatus.CONFIRMED or is_suppressed:
            reason = SUPPRESSED if is_suppressed else UNSUBSCRIBED
            reasons.append({"id": delivery_id, "not_sent_reason": reason})
            continue
        try:
            email = copies.for_reader(session, issue_id, appeal, subscriber_id, address)
        except InvalidEmailError as error:
            reasons.append({"id": delivery_id, "not_sent_reason": f"not sent: {error}"[:200]})
            continue
        key = dedupe_key(issue_id, subscriber_id)
        emails.append((email, key))
        delivery_of[key] = delivery_id
    _record(session, emails, delivery_of, reasons, when)
    return len(rows)


def _record(
    session: Session,
    emails: list[tuple[ComposedEmail, str]],
    delivery_of: dict[str, int],
    reasons: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Queue the messages and write each one's id (or the reason there is none) on its row."""
    queued = queue_checked_emails(session, emails, now=now)
    message_of = {key: message_id for message_id, key in queued}
    earlier = [key for key in delivery_of if key not in message_of]
    if earlier:
        # Queued by an earlier run that stopped before recording it on the row: that message
        # is the reader's copy.
        message_of.update(
            (key, message_id)
            for message_id, key in session.execute(
                select(EmailMessage.id, EmailMessage.dedupe_key).where(
                    EmailMessage.dedupe_key.in_(earlier)
                )
            )
            if key is not None
        )
    # ORM bulk UPDATE by primary key: one executemany statement per kind of change.
    if delivery_of:
        session.execute(
            update(IssueDelivery),
            [
                {"id": delivery_id, "email_message_id": message_of[key]}
                for key, delivery_id in delivery_of.items()
            ],
        )
    if reasons:
        session.execute(update(IssueDelivery), reasons)
    session.flush()


class IssueCopies:
    """Each issue rendered once, with and without the appeal, links tracked; then one copy per
    reader with their own unsubscribe link.

    Whatever runs the outbox keeps one for its lifetime, so a send of 100,000 is not rendered
    again for every batch of 50. A rendering is kept `keep_seconds` (a minute): the issue cannot
    change once sent, and the appeal's campaign copy is then at most that old.
    """

    def __init__(
        self,
        config: Config,
        *,
        keep_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.signer = UnsubscribeSigner(config)
        self.keep_seconds = keep_seconds
        self.clock = clock
        self.templates: dict[tuple[int, bool], tuple[float, IssueEmail]] = {}

    def for_reader(
        self, session: Session, issue_id: int, appeal: bool, subscriber_id: int, address: str
    ) -> ComposedEmail:
        kept = self.templates.get((issue_id, appeal))
        fresh = kept is not None and kept[0] > self.clock()
        template = (
            kept[1] if kept is not None and fresh else self._render(session, issue_id, appeal)
        )
        email = template.for_reader(address, self.signer.url(subscriber_id, address))
        if not fresh:
            # Addresses were checked in full when they joined the list, and every copy's headers
            # differ only in a URL we made: one full check per rendering, and a cheap guard per
            # copy, is enough.
            check_email_fields(email.to, email.subject, email.headers)
        elif "\r" in address or "\n" in address or address.count("@") != 1:
            raise InvalidEmailError(f"subscriber {subscriber_id} has an unusable address")
        return email

    def _render(self, session: Session, issue_id: int, appeal: bool) -> IssueEmail:
        issue = session.get(NewsletterIssue, issue_id)
        if issue is None:  # pragma: no cover - deleting an issue deletes its rows
            raise LookupError(f"newsletter issue {issue_id} is gone")
        block = issue_appeal(session, self.config, issue_id) if appeal else None
        template = track_links(issue_email(self.config, issue, appeal=block), self.config, issue_id)
        if len(self.templates) > 16:
            self.templates.clear()
        self.templates[(issue_id, appeal)] = (self.clock() + self.keep_seconds, template)
        return template
