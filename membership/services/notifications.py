"""Emails that money events cause: who gets one, and its dedupe key; queued in the outbox in the
same transaction as the change. The messages themselves are composed in `membership.emails`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.alerts import dispute_alert_email
from membership.emails.receipts import payment_failed_email, receipt_email
from membership.frequency import frequency_of
from membership.models import Donation, EmailStatus, Subscription, Supporter
from membership.payments.objects import Dispute
from membership.services.outbox import queue_email_or_record_failure


def queue_receipt(
    session: Session, donation: Donation, config: Config, *, dedupe_key: str | None = None
) -> bool:
    """Queue the receipt email; False when there is nobody to send it to or `dedupe_key` (by
    default receipt:<id>, one receipt per donation) was already used."""
    supporter = session.get(Supporter, donation.supporter_id) if donation.supporter_id else None
    # A supporter may turn receipts off (their yearly statement stays on the account page).
    if supporter is None or not supporter.email or not supporter.receipt_emails:
        return False
    subscription = (
        session.get(Subscription, donation.subscription_id) if donation.subscription_id else None
    )
    frequency = frequency_of(donation.kind, subscription.interval if subscription else None)
    queued = queue_email_or_record_failure(
        session,
        receipt_email(config, donation, to=supporter.email, frequency=frequency),
        dedupe_key=dedupe_key or f"receipt:{donation.id}",
    )
    return queued is not None and queued.status is EmailStatus.QUEUED


def queue_payment_failed(
    session: Session,
    *,
    to: str,
    subscription: Subscription,
    fix_url: str,
    attempt: int,
    next_attempt: datetime | None,
    invoice_id: str,
    config: Config,
) -> None:
    """One email per failed attempt of an invoice."""
    queue_email_or_record_failure(
        session,
        payment_failed_email(
            config, subscription, to=to, fix_url=fix_url, next_attempt=next_attempt
        ),
        dedupe_key=f"payment_failed:{invoice_id}:{attempt}",
    )


def queue_dispute_alert(
    session: Session, donation: Donation, dispute: Dispute, config: Config
) -> None:
    """One alert to staff per dispute, however many of its events arrive."""
    queue_email_or_record_failure(
        session, dispute_alert_email(config, donation, dispute), dedupe_key=f"dispute:{dispute.id}"
    )
