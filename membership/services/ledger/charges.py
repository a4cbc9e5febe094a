"""Refunds and disputes: what happened to a charge after the money arrived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import Donation, DonationRefund, DonationStatus
from membership.payments.objects import Charge, Dispute
from membership.services import notifications
from membership.services.integrations import events
from membership.services.ledger import EventNotReady


def _donation_for_charge(
    session: Session, charge_id: str | None, payment_intent: str | None
) -> Donation | None:
    if payment_intent:
        donation = session.scalar(
            select(Donation).where(Donation.stripe_payment_intent_id == payment_intent)
        )
        if donation is not None:
            return donation
    if charge_id:
        return session.scalar(select(Donation).where(Donation.stripe_charge_id == charge_id))
    return None


def _settled_status(donation: Donation) -> DonationStatus:
    if donation.refunded_cents >= donation.total_cents:
        return DonationStatus.REFUNDED
    if donation.refunded_cents > 0:
        return DonationStatus.PARTIALLY_REFUNDED
    return DonationStatus.SUCCEEDED


def apply_refund(session: Session, charge: Charge, *, refunded_at: datetime) -> Donation:
    """Record a charge's refunded total; the increase is dated `refunded_at` (when Stripe said
    so) in `DonationRefund`, which the reports read."""
    donation = _donation_for_charge(session, charge.id, charge.payment_intent_id)
    if donation is None:
        raise EventNotReady(f"no donation for charge {charge.id} yet")
    # Two refund events for one charge at once must not both count the same increase.
    session.refresh(donation, with_for_update=True)
    if donation.stripe_charge_id is None:
        donation.stripe_charge_id = charge.id
    refunded = min(charge.amount_refunded, donation.total_cents)
    refunded_now = refunded > donation.refunded_cents
    # Refunds only ever grow: an older event with a smaller total changes nothing.
    if refunded > donation.refunded_cents:
        session.add(
            DonationRefund(
                donation_id=donation.id,
                amount_cents=refunded - donation.refunded_cents,
                refunded_at=refunded_at,
            )
        )
        donation.refunded_cents = refunded
    if donation.status is not DonationStatus.DISPUTED:
        donation.status = _settled_status(donation)
    session.flush()
    if refunded_now:
        events.donation_event(session, "donation.refunded", donation)
    return donation


def apply_dispute(
    session: Session, dispute: Dispute, *, config: Config, closed: bool, now: datetime
) -> Donation:
    donation = _donation_for_charge(session, dispute.charge_id, dispute.payment_intent_id)
    if donation is None:
        raise EventNotReady(f"no donation for disputed charge {dispute.charge_id} yet")
    if donation.stripe_charge_id is None:
        donation.stripe_charge_id = dispute.charge_id
    already_closed = donation.dispute_status in ("won", "lost")
    newly_opened = donation.disputed_at is None and not closed
    donation.dispute_id = dispute.id
    if donation.disputed_at is None:
        donation.disputed_at = dispute.created or now
    if closed or dispute.status in ("won", "lost"):
        donation.dispute_status = dispute.status
        donation.status = (
            DonationStatus.DISPUTED if dispute.status == "lost" else _settled_status(donation)
        )
    elif not already_closed:
        donation.dispute_status = dispute.status or "needs_response"
        donation.status = DonationStatus.DISPUTED
        notifications.queue_dispute_alert(session, donation, dispute, config)
    session.flush()
    if newly_opened:
        events.donation_event(session, "donation.disputed", donation)
    return donation
