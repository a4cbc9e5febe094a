"""Emails that money events cause: who gets one, and its dedupe key; queued in the outbox in the
same transaction as the change. The messages themselves are composed in `membership.emails`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.alerts import dispute_alert_email
from membership.emails.receipts import (
    payment_action_required_email,
    receipt_email,
    refund_confirmation_email,
)
from membership.frequency import frequency_of
from membership.models import Donation, DonationRefund, EmailStatus, Subscription, Supporter
from membership.payments.disputes import Dispute
from membership.services.outbox import queue_email_or_record_failure, queue_money_email


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
    status = queue_money_email(
        session,
        receipt_email(config, donation, to=supporter.email, frequency=frequency),
        dedupe_key=dedupe_key or f"receipt:{donation.id}",
    )
    return status is EmailStatus.QUEUED


def queue_refund_confirmation(
    session: Session, donation: Donation, refund: DonationRefund, config: Config
) -> bool:
    """Tell the donor their money is on its way back: once per refund, when it succeeded."""
    supporter = session.get(Supporter, donation.supporter_id) if donation.supporter_id else None
    if supporter is None or not supporter.email:
        return False
    queued = queue_email_or_record_failure(
        session,
        refund_confirmation_email(config, donation, refund, to=supporter.email),
        dedupe_key=f"refund:{refund.stripe_refund_id or refund.id}",
    )
    return queued is not None and queued.status is EmailStatus.QUEUED


def queue_payment_action_required(
    session: Session,
    *,
    to: str,
    subscription: Subscription,
    confirm_url: str,
    invoice_id: str,
    config: Config,
) -> None:
    """The bank wants the supporter to confirm a payment (3-D Secure): one email per invoice."""
    queue_email_or_record_failure(
        session,
        payment_action_required_email(config, subscription, to=to, confirm_url=confirm_url),
        dedupe_key=f"payment_action_required:{invoice_id}",
    )


def queue_dispute_alert(
    session: Session, donation: Donation, dispute: Dispute, config: Config
) -> None:
    """One alert to staff per dispute, however many of its events arrive."""
    queue_email_or_record_failure(
        session, dispute_alert_email(config, donation, dispute), dedupe_key=f"dispute:{dispute.id}"
    )
