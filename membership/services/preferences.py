"""Which emails a supporter wants: receipts, renewal reminders, the newsletter and the lifecycle
emails (notes about their giving; notices about a failed payment or an expiring card)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from membership.models import SubscriberStatus, Supporter
from membership.services import newsletter
from membership.services.lifecycle.sending import opted_out_groups, set_opt_outs


@dataclass(frozen=True)
class EmailPreferences:
    receipts: bool
    renewal_reminders: bool
    newsletter: bool
    giving_notes: bool = True
    payment_notices: bool = True


# The lifecycle groups each account switch stands for (each email's own link unsubscribes from
# its group alone).
GIVING_NOTES = ("welcome", "upgrade_ask", "win_back", "year_in_review")
PAYMENT_NOTICES = ("dunning", "card_expiring")


def email_preferences(session: Session, supporter: Supporter) -> EmailPreferences:
    declined = opted_out_groups(session, supporter.id)
    return EmailPreferences(
        receipts=supporter.receipt_emails,
        renewal_reminders=supporter.renewal_reminders,
        newsletter=_on_the_newsletter(session, supporter),
        giving_notes=not declined.intersection(GIVING_NOTES),
        payment_notices=not declined.intersection(PAYMENT_NOTICES),
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
    for groups, wanted_group in (
        (GIVING_NOTES, wanted.giving_notes),
        (PAYMENT_NOTICES, wanted.payment_notices),
    ):
        set_opt_outs(session, supporter.id, groups, opted_out=not wanted_group, now=now)
    if wanted.newsletter != _on_the_newsletter(session, supporter):
        # Only a real change goes into the newsletter's consent ledger.
        newsletter.set_supporter_subscription(
            session, supporter, wanted.newsletter, source="account", ip_hash=ip_hash, now=now
        )
    session.flush()
