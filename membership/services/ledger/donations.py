"""Donation rows: one per Stripe payment, and how a payment splits into gift and covered fee."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import Donation, DonationIntent, DonationStatus, IntentStatus
from membership.payments.gateway import PaymentProviderError, StripeGateway
from membership.payments.objects import GiftMetadata, PaymentSummary
from membership.services import notifications
from membership.services.integrations import events
from membership.services.reports import summary
from membership.services.sql import insert_or_ignore

log = logging.getLogger(__name__)


def intent_for(session: Session, *candidates: int | str | None) -> DonationIntent | None:
    """The first of the candidate intent ids (metadata, client reference) that we know."""
    for candidate in candidates:
        try:
            intent_id = int(candidate) if candidate is not None else None
        except ValueError:
            intent_id = None
        if intent_id is not None:
            intent = session.get(DonationIntent, intent_id)
            if intent is not None:
                return intent
    return None


def split_payment(total: int, gift: GiftMetadata, intent: DonationIntent | None) -> tuple[int, int]:
    """Gift and covered fee of a payment of `total`, from what the donor chose."""
    if intent is not None and intent.total_cents == total:
        return intent.amount_cents, intent.fee_cents
    gift_cents, fee_cents = gift.gift_cents, gift.fee_cents
    if (
        gift_cents is not None
        and fee_cents is not None
        and gift_cents > 0
        and fee_cents >= 0
        and gift_cents + fee_cents == total
    ):
        return gift_cents, fee_cents
    return total, 0


def complete_intent(intent: DonationIntent | None, now: datetime) -> None:
    if intent is not None and intent.status is not IntentStatus.COMPLETED:
        intent.status = IntentStatus.COMPLETED
        intent.completed_at = now


def record_donation(session: Session, values: dict[str, Any], config: Config) -> Donation | None:
    """Insert a succeeded, unrefunded donation unless one exists for the same Stripe object (None
    then); give it its receipt number and queue the receipt in the same transaction."""
    donation = insert_or_ignore(
        session,
        Donation,
        {"status": DonationStatus.SUCCEEDED, "refunded_cents": 0, **values},
    )
    if donation is None:
        return None
    donation.receipt_number = f"{config.receipt_prefix}-{donation.paid_at.year}-{donation.id:06d}"
    session.flush()
    summary.donation_added(session, donation)
    notifications.queue_receipt(session, donation, config)
    events.donation_event(session, "donation.created", donation)
    return donation


def payment_charge(gateway: StripeGateway, payment_intent_id: str | None) -> PaymentSummary | None:
    """The charge of a payment, stored with its donation: refunds and disputes name charges.

    A payment Stripe does not know (None) is recorded without it; a transient failure is raised,
    so the event is delivered again.
    """
    if not payment_intent_id:
        return None
    try:
        return gateway.retrieve_payment(payment_intent_id)
    except PaymentProviderError as error:
        if error.retryable:
            raise
        log.warning("payment %s not found at Stripe: %s", payment_intent_id, error.detail)
        return None
