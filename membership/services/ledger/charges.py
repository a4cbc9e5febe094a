"""Refunds and disputes: what happened to a charge after the money arrived.

Both are recomputed from Stripe's own record rather than counted up event by event: a refund
can go `pending` and then `failed` or `canceled` (the refunded total goes down), and a dispute's
money moves only with its balance transactions (`funds_withdrawn`, `funds_reinstated`), which
the dispute object lists. So every delivery order ends in the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import (
    DisputeMovement,
    Donation,
    DonationRefund,
    DonationStatus,
    RefundStatus,
)
from membership.payments.disputes import Dispute
from membership.payments.objects import Refund
from membership.services import notifications
from membership.services.integrations import events
from membership.services.ledger import EventNotReady
from membership.services.reports import summary
from membership.services.sql import insert_or_ignore

# How far a dispute has got: a stale event never moves a dispute back.
_DISPUTE_STAGE = {
    "warning_needs_response": 0,
    "warning_under_review": 1,
    "needs_response": 2,
    "under_review": 3,
}
_CLOSED_STAGE = 9


def _stage(status: str | None) -> int:
    if status is None:
        return -1
    return _DISPUTE_STAGE.get(status, _CLOSED_STAGE)


def _donation_for_charge(
    session: Session, charge_id: str | None, payment_intent: str | None
) -> Donation | None:
    if charge_id:
        donation = session.scalar(select(Donation).where(Donation.stripe_charge_id == charge_id))
        if donation is not None:
            return donation
    if payment_intent:
        return session.scalar(
            select(Donation).where(Donation.stripe_payment_intent_id == payment_intent)
        )
    return None


def _locked_donation(
    session: Session, charge_id: str | None, payment_intent: str | None, what: str
) -> Donation:
    donation = _donation_for_charge(session, charge_id, payment_intent)
    if donation is None:
        raise EventNotReady(f"no donation for {what} {charge_id or payment_intent} yet")
    # Two events about one charge at once must not both count the same change.
    session.refresh(donation, with_for_update=True)
    if donation.stripe_charge_id is None and charge_id:
        donation.stripe_charge_id = charge_id
    return donation


def _disputed(donation: Donation) -> bool:
    """A chargeback still open, or lost: Stripe refuses refunds, the money is the bank's."""
    status = donation.dispute_status
    return status in ("needs_response", "under_review", "lost")


def _settle(donation: Donation) -> None:
    if _disputed(donation):
        donation.status = DonationStatus.DISPUTED
    elif donation.refunded_cents >= donation.total_cents:
        donation.status = DonationStatus.REFUNDED
    elif donation.refunded_cents > 0:
        donation.status = DonationStatus.PARTIALLY_REFUNDED
    else:
        donation.status = DonationStatus.SUCCEEDED


def _refund_status(refund: Refund) -> RefundStatus:
    try:
        return RefundStatus(refund.status or "pending")
    except ValueError:
        return RefundStatus.PENDING  # a status we do not know: money may be leaving


def apply_refunds(
    session: Session,
    *,
    charge_id: str,
    payment_intent_id: str | None,
    refunds: Sequence[Refund],
    config: Config,
    now: datetime,
) -> Donation:
    """Bring a donation's refunds in line with every refund Stripe lists for its charge.

    One row per refund, dated when it was made, in its current status; the refunded total is
    what the pending and succeeded ones add up to, so it goes down when a refund fails. The
    donor is told once, when a refund has succeeded.
    """
    donation = _locked_donation(session, charge_id, payment_intent_id, "charge")
    counted_before = summary.counted_refunds(session, donation.id)
    listed = [r for r in refunds if r.amount and r.amount > 0]
    if listed:
        # Stripe's list is the whole truth: rows kept before refunds were tracked one by one
        # would count twice.
        session.execute(
            delete(DonationRefund).where(
                DonationRefund.donation_id == donation.id,
                DonationRefund.stripe_refund_id.is_(None),
            )
        )
    for refund in listed:
        insert_or_ignore(
            session,
            DonationRefund,
            {
                "donation_id": donation.id,
                "stripe_refund_id": refund.id,
                "amount_cents": refund.amount,
                "refunded_at": refund.created or now,
                "status": _refund_status(refund),
            },
            ["stripe_refund_id"],
        )
    rows = {
        row.stripe_refund_id: row
        for row in session.scalars(
            select(DonationRefund).where(DonationRefund.donation_id == donation.id)
        )
    }
    for refund in listed:
        row = rows[refund.id]
        row.status = _refund_status(refund)
        row.failure_reason = refund.failure_reason
        if row.status is RefundStatus.SUCCEEDED and row.confirmed_at is None:
            notifications.queue_refund_confirmation(session, donation, row, config)
            row.confirmed_at = now
    counted = sum(row.amount_cents for row in rows.values() if row.counted)
    refunded_now = min(counted, donation.total_cents) > donation.refunded_cents
    donation.refunded_cents = min(counted, donation.total_cents)
    _settle(donation)
    session.flush()
    summary.refunds_changed(session, donation, counted_before)
    if refunded_now:
        events.donation_event(session, "donation.refunded", donation)
    return donation


def apply_dispute(session: Session, dispute: Dispute, *, config: Config, now: datetime) -> Donation:
    """A dispute as Stripe has it: flagged (an inquiry only flags), money moved by its balance
    transactions, staff alerted once while it is open."""
    donation = _locked_donation(session, dispute.charge_id, dispute.payment_intent_id, "dispute")
    for funds in dispute.funds:
        movement = insert_or_ignore(
            session,
            DisputeMovement,
            {
                "donation_id": donation.id,
                "stripe_dispute_id": dispute.id,
                "stripe_balance_transaction_id": funds.id,
                # Withdrawn comes as a negative balance transaction: a cost to us, positive here.
                "amount_cents": -funds.amount,
                "fee_cents": funds.fee,
                "moved_at": funds.created or now,
            },
            ["stripe_balance_transaction_id"],
        )
        if movement is not None:
            summary.dispute_moved(session, donation, movement)
    same = donation.dispute_id == dispute.id
    if not same or _stage(dispute.status) >= _stage(donation.dispute_status):
        donation.dispute_id = dispute.id
        donation.dispute_status = dispute.status or "needs_response"
    newly_opened = donation.disputed_at is None
    if newly_opened:
        donation.disputed_at = dispute.created or now
    if not dispute.closed:
        notifications.queue_dispute_alert(session, donation, dispute, config)
    _settle(donation)
    session.flush()
    if newly_opened:
        events.donation_event(session, "donation.disputed", donation)
    return donation
