"""Stripe disputes (chargebacks and inquiries) as frozen dataclasses, parsed at the boundary like
the objects in `payments.objects`: the money a dispute withdrew or reinstated, and its state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from membership.payments.fields import Fields

__all__ = ["CLOSED_DISPUTE_STATUSES", "Dispute", "DisputeFunds"]


@dataclass(frozen=True)
class DisputeFunds:
    """One balance transaction of a dispute: money withdrawn from us (negative `amount`) or
    reinstated (positive), and Stripe's dispute fee on it."""

    id: str
    amount: int
    fee: int
    created: datetime | None

    @classmethod
    def _from(cls, f: Fields) -> DisputeFunds:
        return cls(
            id=f.required_text("id"),
            amount=f.whole("amount") or 0,
            fee=f.whole("fee") or 0,
            created=f.timestamp("created"),
        )


# Inquiries (and early warnings) move no money, and the charge stays refundable.
INQUIRY_STATUSES = ("warning_needs_response", "warning_under_review", "warning_closed")
CLOSED_DISPUTE_STATUSES = ("won", "lost", "warning_closed", "prevented", "charge_refunded")


@dataclass(frozen=True)
class Dispute:
    id: str
    charge_id: str | None
    payment_intent_id: str | None
    amount: int | None
    currency: str | None
    status: str  # warning_needs_response, needs_response, under_review, won, lost, ...
    reason: str | None
    created: datetime | None
    evidence_due_by: datetime | None
    funds: tuple[DisputeFunds, ...]  # zero, one or two: withdrawn, then perhaps reinstated
    charge_refundable: bool

    @property
    def inquiry(self) -> bool:
        return self.status in INQUIRY_STATUSES

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_DISPUTE_STATUSES

    @classmethod
    def parse(cls, data: object) -> Dispute:
        f = Fields(data, "dispute")
        return cls(
            id=f.required_text("id"),
            charge_id=f.reference("charge"),
            payment_intent_id=f.reference("payment_intent"),
            amount=f.whole("amount"),
            currency=f.text("currency"),
            status=f.text("status") or "",
            reason=f.text("reason"),
            created=f.timestamp("created"),
            evidence_due_by=f.nested("evidence_details").timestamp("due_by"),
            # A list of objects (not a list object): always expanded.
            funds=tuple(
                DisputeFunds._from(Fields(t, "dispute.balance_transactions"))
                for t in f.objects("balance_transactions")
            ),
            charge_refundable=f.flag("is_charge_refundable"),
        )
