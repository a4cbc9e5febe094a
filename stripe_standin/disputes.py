"""Disputes (chargebacks) and inquiries, as Stripe's test cards and the admin endpoints open them.

An inquiry (`warning_needs_response`, test card 4000000000001976) moves no money and leaves the
charge refundable; it closes as `warning_closed`. A chargeback (`needs_response`, test card
4000000000000259) withdraws the disputed amount and Stripe's dispute fee at once
(`charge.dispute.funds_withdrawn`); a won one reinstates the amount
(`charge.dispute.funds_reinstated`; the fee stays withdrawn). Both show as balance
transactions on the dispute.
"""

from __future__ import annotations

import copy

from stripe_standin.clock import now
from stripe_standin.errors import StripeError
from stripe_standin.ids import new_id
from stripe_standin.params import as_int
from stripe_standin.store import JSON, Store, diff_top_level

# Stripe's dispute fee on a US account, taken with the withdrawal (in the charge's currency
# here: the stand-in has no settlement currency).
DISPUTE_FEE = 1500
OPEN_STATUSES = {
    "inquiry": ("warning_needs_response", "warning_under_review"),
    "chargeback": ("needs_response", "under_review"),
}


def _balance_transaction(dispute: JSON, amount: int, fee: int, description: str) -> JSON:
    return {
        "id": new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now() + 7 * 24 * 3600,
        "created": now(),
        "currency": dispute["currency"],
        "description": f"{description} for {dispute['charge']}",
        "exchange_rate": None,
        "fee": fee,
        "fee_details": (
            [
                {
                    "amount": fee,
                    "application": None,
                    "currency": dispute["currency"],
                    "description": "Dispute fee",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else []
        ),
        "net": amount - fee,
        "reporting_category": "dispute" if amount < 0 else "dispute_reversal",
        "source": dispute["id"],
        "status": "pending",
        "type": "adjustment",
    }


def create(store: Store, ch: JSON, params: JSON) -> JSON:
    """Open a dispute on a paid charge, for its unrefunded amount unless ``amount`` says less.

    ``{"inquiry": true}`` opens an inquiry instead of a chargeback.
    """
    if not ch["paid"]:
        raise StripeError("Only paid charges can be disputed.", param="charge")
    if store.private[ch["id"]].get("dispute"):
        raise StripeError("This charge is already disputed.", param="charge")
    inquiry = params.get("inquiry") in (True, "true", "1")
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
            "is_charge_refundable": inquiry,
            "payment_intent": ch["payment_intent"],
            "payment_method_details": {
                "card": {
                    "brand": "visa",
                    "case_type": "inquiry" if inquiry else "chargeback",
                    "network": "visa",
                    "network_reason_code": "10.4",
                },
                "type": "card",
            },
            "reason": str(params.get("reason") or ("general" if inquiry else "fraudulent")),
            "status": "warning_needs_response" if inquiry else "needs_response",
        }
    )
    store.add(dispute)
    store.private[ch["id"]]["dispute"] = dispute["id"]
    ch["disputed"] = True
    store.emit("charge.dispute.created", dispute)
    if not inquiry:
        dispute["balance_transactions"].append(
            _balance_transaction(dispute, -amount, DISPUTE_FEE, "Chargeback withdrawal")
        )
        store.emit("charge.dispute.funds_withdrawn", dispute)
    return dispute


def update(store: Store, dispute: JSON, status: str) -> JSON:
    """Move an open dispute on (``under_review`` once evidence is in): ``charge.dispute.updated``."""
    kind = "inquiry" if dispute["status"].startswith("warning_") else "chargeback"
    if status not in OPEN_STATUSES[kind] or dispute["status"] not in OPEN_STATUSES[kind]:
        raise StripeError(f"A {kind} cannot move to {status}.", param="status")
    before = copy.deepcopy(dispute)
    dispute["status"] = status
    store.emit("charge.dispute.updated", dispute, diff_top_level(before, dispute))
    return dispute


def close(store: Store, dispute: JSON, status: str) -> JSON:
    """Close a chargeback as ``won`` or ``lost``, an inquiry as ``warning_closed``."""
    inquiry = dispute["status"] in OPEN_STATUSES["inquiry"]
    allowed = ("warning_closed",) if inquiry else ("won", "lost")
    if dispute["status"] not in OPEN_STATUSES["inquiry"] + OPEN_STATUSES["chargeback"]:
        raise StripeError("This dispute is already closed.", param="dispute")
    if status not in allowed:
        raise StripeError(f"status must be {' or '.join(allowed)}", param="status")
    dispute["status"] = status
    if status == "won":
        dispute["balance_transactions"].append(
            _balance_transaction(dispute, dispute["amount"], 0, "Chargeback reversal")
        )
        store.emit("charge.dispute.funds_reinstated", dispute)
    store.emit("charge.dispute.closed", dispute)
    return dispute
