"""The list's rows about a supporter in "download my data" and "delete my account"."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from membership.models import ConsentEvent, IssueDelivery, Subscriber, Supporter
from membership.services.privacy import Row, register_personal_data, row_dict
from membership.services.supporters import normalize_email


def _subscribers_of(session: Session, supporter: Supporter) -> list[Subscriber]:
    keys = [Subscriber.supporter_id == supporter.id]
    if supporter.email:
        keys.append(Subscriber.email == normalize_email(supporter.email))
    return list(session.scalars(select(Subscriber).where(or_(*keys)).order_by(Subscriber.id)))


def export_newsletter_data(session: Session, supporter: Supporter) -> dict[str, list[Row]]:
    """The list rows about a supporter, for "download my data"."""
    subscribers = _subscribers_of(session, supporter)
    ids = [s.id for s in subscribers]
    consent = session.scalars(
        select(ConsentEvent).where(ConsentEvent.subscriber_id.in_(ids)).order_by(ConsentEvent.id)
    )
    deliveries = session.scalars(
        select(IssueDelivery).where(IssueDelivery.subscriber_id.in_(ids)).order_by(IssueDelivery.id)
    )
    return {
        "subscriber": [row_dict(s) for s in subscribers],
        "consent_event": [row_dict(e) for e in consent],
        "issue_delivery": [row_dict(d) for d in deliveries],
    }


def erase_newsletter_data(session: Session, supporter: Supporter) -> None:
    """ "Delete my account" takes them off the list and forgets the list's rows about them.
    Deleted explicitly, child rows first: SQLite does not enforce ON DELETE CASCADE here."""
    ids = [s.id for s in _subscribers_of(session, supporter)]
    if not ids:
        return
    session.execute(delete(IssueDelivery).where(IssueDelivery.subscriber_id.in_(ids)))
    session.execute(delete(ConsentEvent).where(ConsentEvent.subscriber_id.in_(ids)))
    session.execute(delete(Subscriber).where(Subscriber.id.in_(ids)))
    session.flush()


register_personal_data(export_newsletter_data, erase_newsletter_data)
