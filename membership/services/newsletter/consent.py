"""The consent ledger: the words a reader agrees to, each event that changes their consent, and
confirming a subscriber (one place, whether by the emailed link or a supporter's account)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import ConsentEvent, ConsentKind, Subscriber, SubscriberStatus
from membership.services.integrations import events

# The exact words a reader agrees to, by version. A version is never edited once used: change the
# wording by adding a version and pointing CURRENT_WORDING at it. Forms send the version they
# showed, so a page cached before a change still records the words that reader actually saw.
CONSENT_WORDINGS = {
    "2026-11-a": (
        "Email me {newsletter}, the newsletter of {publication}, about once a week. "
        "I can unsubscribe at any time with the link in every email."
    ),
}
CURRENT_WORDING = "2026-11-a"


def consent_wording(config: Config, version: str = CURRENT_WORDING) -> str:
    return CONSENT_WORDINGS[version].format(
        newsletter=config.newsletter_name, publication=config.publication_name
    )


def hash_ip(config: Config, ip: str | None) -> str | None:
    """Keyed with the secret, so the hash cannot be reversed by trying all IPv4 addresses."""
    if not ip:
        return None
    digest = hmac.new(config.secret_key.encode(), f"ip:{ip}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def record_consent(
    session: Session,
    subscriber: Subscriber,
    kind: ConsentKind,
    *,
    source: str,
    now: datetime,
    wording_version: str | None = None,
    ip_hash: str | None = None,
    basis: str | None = None,
    staff_member_id: int | None = None,
) -> ConsentEvent:
    event = ConsentEvent(
        subscriber_id=subscriber.id,
        kind=kind,
        occurred_at=now,
        source=source[:120],
        wording_version=wording_version,
        ip_hash=ip_hash,
        basis=basis,
        staff_member_id=staff_member_id,
    )
    session.add(event)
    return event


def confirm(
    session: Session,
    subscriber: Subscriber,
    *,
    source: str,
    wording_version: str | None,
    ip_hash: str | None,
    now: datetime,
    basis: str | None = None,
) -> bool:
    """Put the subscriber on the list and record it: CONFIRM the first time, RESUBSCRIBE when they
    were on it before. False, recording nothing, when they are confirmed already."""
    if subscriber.status is SubscriberStatus.CONFIRMED:
        return False
    came_back = (
        subscriber.status is SubscriberStatus.UNSUBSCRIBED or subscriber.confirmed_at is not None
    )
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    record_consent(
        session,
        subscriber,
        ConsentKind.RESUBSCRIBE if came_back else ConsentKind.CONFIRM,
        source=source,
        now=now,
        wording_version=wording_version,
        ip_hash=ip_hash,
        basis=basis,
    )
    session.flush()
    events.subscriber_event(session, "subscriber.confirmed", subscriber, now=now)
    return True


def last_request(session: Session, subscriber: Subscriber) -> ConsentEvent | None:
    """The latest SUBSCRIBE event: where the sign-up came from and the words it showed."""
    return session.scalar(
        select(ConsentEvent)
        .where(
            ConsentEvent.subscriber_id == subscriber.id,
            ConsentEvent.kind == ConsentKind.SUBSCRIBE,
        )
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class ConsentHistoryLine:
    kind: str
    occurred_at: datetime
    source: str
    wording_version: str | None
    basis: str | None


def consent_history(session: Session, subscriber_id: int) -> list[ConsentHistoryLine]:
    events = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber_id)
        .order_by(ConsentEvent.id)
    )
    return [
        ConsentHistoryLine(e.kind.value, e.occurred_at, e.source, e.wording_version, e.basis)
        for e in events
    ]
