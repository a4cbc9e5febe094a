"""What lifecycle email did, for staff: per kind, messages sent, links opened and conversions
counted from confirmed money (a payment recorded from Stripe's webhook), never from clicks; and
one supporter's lifecycle messages with their state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from membership.models import (
    Donation,
    DonationKind,
    DonationStatus,
    EmailMessage,
    EmailStatus,
    FailedRenewal,
    LifecycleMessage,
)
from membership.services.lifecycle.kinds import KINDS, Conversion

_PAID = Donation.status != DonationStatus.FAILED


def _converted(conversion: Conversion) -> ColumnElement[bool] | None:
    m = LifecycleMessage
    if conversion is Conversion.ANY_GIFT:
        return exists().where(
            Donation.supporter_id == m.supporter_id, Donation.paid_at > m.created_at, _PAID
        )
    if conversion is Conversion.RECURRING_GIFT:
        # Their first recurring payment came after the message.
        earlier = aliased(Donation)
        return and_(
            exists().where(
                Donation.supporter_id == m.supporter_id,
                Donation.kind == DonationKind.RECURRING,
                Donation.paid_at > m.created_at,
                _PAID,
            ),
            ~exists().where(
                earlier.supporter_id == m.supporter_id,
                earlier.kind == DonationKind.RECURRING,
                earlier.paid_at <= m.created_at,
            ),
        )
    if conversion is Conversion.INVOICE_PAID:
        return exists().where(
            FailedRenewal.stripe_invoice_id == m.period,
            FailedRenewal.paid_at.is_not(None),
            FailedRenewal.paid_at >= m.created_at,
        )
    return None


@dataclass(frozen=True)
class KindStats:
    queued: int = 0  # not sent yet (or being retried)
    sent: int = 0
    failed: int = 0
    opened: int = 0  # followed a link in it at least once
    converted: int | None = None  # None: this kind has no money to count


def _outbox_stats(session: Session, kind_name: str) -> KindStats:
    """A kind sent to subscribers has no per-message record: the outbox's emails of that kind."""
    counts = dict(
        session.execute(
            select(EmailMessage.status, func.count())
            .where(EmailMessage.kind == kind_name)
            .group_by(EmailMessage.status)
        ).all()
    )
    return KindStats(
        queued=counts.get(EmailStatus.QUEUED, 0) + counts.get(EmailStatus.SENDING, 0),
        sent=counts.get(EmailStatus.SENT, 0),
        failed=counts.get(EmailStatus.FAILED, 0),
    )


def kind_stats(session: Session, kind_name: str) -> KindStats:
    if KINDS[kind_name].for_subscribers:
        return _outbox_stats(session, kind_name)
    m = LifecycleMessage
    converted = _converted(KINDS[kind_name].conversion)
    columns = [
        func.count(m.id).filter(EmailMessage.status == EmailStatus.SENT),
        func.count(m.id).filter(EmailMessage.status == EmailStatus.FAILED),
        func.count(m.id).filter(EmailMessage.status.in_([EmailStatus.QUEUED, EmailStatus.SENDING])),
        func.count(m.link_opened_at),
    ]
    if converted is not None:
        columns.append(func.count(m.id).filter(converted))
    row = session.execute(
        select(*columns)
        .select_from(m)
        .outerjoin(EmailMessage, EmailMessage.id == m.email_message_id)
        .where(m.kind == kind_name)
    ).one()
    return KindStats(
        sent=row[0],
        failed=row[1],
        queued=row[2],
        opened=row[3],
        converted=row[4] if converted is not None else None,
    )


@dataclass(frozen=True)
class SentLine:
    kind: str
    title: str
    period: str
    created_at: datetime
    status: str  # the email's: queued, sending, sent, failed
    link_opened_at: datetime | None


def supporter_messages(session: Session, supporter_id: int, *, limit: int = 100) -> list[SentLine]:
    rows = session.execute(
        select(LifecycleMessage, EmailMessage.status)
        .outerjoin(EmailMessage, EmailMessage.id == LifecycleMessage.email_message_id)
        .where(LifecycleMessage.supporter_id == supporter_id)
        .order_by(LifecycleMessage.created_at.desc(), LifecycleMessage.id.desc())
        .limit(limit)
    )
    return [
        SentLine(
            kind=message.kind,
            title=KINDS[message.kind].title if message.kind in KINDS else message.kind,
            period=message.period,
            created_at=message.created_at,
            status=status.value if status is not None else "not queued",
            link_opened_at=message.link_opened_at,
        )
        for message, status in rows
    ]
