"""Which emails a supporter wants: receipts, renewal reminders and the newsletter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from membership.models import SubscriberStatus, Supporter
from membership.services import newsletter


@dataclass(frozen=True)
class EmailPreferences:
    receipts: bool
    renewal_reminders: bool
    newsletter: bool


def email_preferences(session: Session, supporter: Supporter) -> EmailPreferences:
    return EmailPreferences(
        receipts=supporter.receipt_emails,
        renewal_reminders=supporter.renewal_reminders,
        newsletter=_on_the_newsletter(session, supporter),
    )


def _on_the_newsletter(session: Session, supporter: Supporter) -> bool:
    return newsletter.supporter_subscription(session, supporter) is SubscriberStatus.CONFIRMED


def save_email_preferences(
    session: Session,
    supporter: Supporter,
    wanted: EmailPreferences,
    *,
    ip_hash: str | None,
    now: datetime,
) -> None:
    supporter.receipt_emails = wanted.receipts
    supporter.renewal_reminders = wanted.renewal_reminders
    if wanted.newsletter != _on_the_newsletter(session, supporter):
        # Only a real change goes into the newsletter's consent ledger.
        newsletter.set_supporter_subscription(
            session, supporter, wanted.newsletter, source="account", ip_hash=ip_hash, now=now
        )
    session.flush()
