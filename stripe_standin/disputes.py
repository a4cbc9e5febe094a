"""Disputes (chargebacks) opened and closed through the admin endpoints."""

from __future__ import annotations

from stripe_standin.clock import now
from stripe_standin.errors import StripeError
from stripe_standin.params import as_int
from stripe_standin.store import JSON, Store


def create(store: Store, ch: JSON, params: JSON) -> JSON:
    """Open a dispute on a paid charge (``needs_response``), for its unrefunded amount by default."""
    if not ch["paid"]:
        raise StripeError("Only paid charges can be disputed.", param="charge")
    if ch["disputed"]:
        raise StripeError("This charge is already disputed.", param="charge")
    amount = ch["amount"] - ch["amount_refunded"]
    if params.get("amount") is not None:
        amount = as_int(params["amount"], "amount", positive=True)
    dispute = store.base("dispute", "dp", metadata={})
    dispute.update(
        {
            "amount": amount,
            "balance_transactions": [],
            "charge": ch["id"],
            "currency": ch["currency"],
            "enhanced_eligibility_types": [],
            "evidence": {},
            "evidence_details": {
                "due_by": now() + 7 * 24 * 3600,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "payment_intent": ch["payment_intent"],
            "payment_method_details": {
                "card": {
                    "brand": "visa",
                    "case_type": "chargeback",
                    "network_reason_code": "10.4",
                },
                "type": "card",
            },
            "reason": str(params.get("reason") or "fraudulent"),
            "status": "needs_response",
        }
    )
    store.add(dispute)
    ch["disputed"] = True
    store.emit("charge.dispute.created", dispute)
    return dispute


def close(store: Store, dispute: JSON, status: str) -> JSON:
    """Close an open dispute as ``won`` or ``lost``."""
    if status not in ("won", "lost"):
        raise StripeError("status must be won or lost", param="status")
    if dispute["status"] in ("won", "lost"):
        raise StripeError("This dispute is already closed.", param="dispute")
    dispute["status"] = status
    store.emit("charge.dispute.closed", dispute)
    return dispute
