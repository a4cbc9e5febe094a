"""Refunds: Stripe's checks on what may be refunded, the refund, and the charge's refunded total."""

from __future__ import annotations

import copy

from stripe_standin.errors import StripeError
from stripe_standin.ids import new_id
from stripe_standin.money import check_amount, format_amount
from stripe_standin.params import as_int, as_str, merge_metadata
from stripe_standin.store import JSON, Store, diff_top_level


def create(store: Store, params: JSON) -> JSON:
    """Refund all or part of a paid charge, named by ``charge`` or ``payment_intent``."""
    if params.get("charge"):
        ch = store.get("charge", as_str(params["charge"], "charge"), "charge")
    elif params.get("payment_intent"):
        pi = store.get(
            "payment_intent",
            as_str(params["payment_intent"], "payment_intent"),
            "payment_intent",
        )
        if not pi["latest_charge"] or pi["status"] != "succeeded":
            raise StripeError(
                f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        ch = store.objects[pi["latest_charge"]]
    else:
        raise StripeError("Missing required param: charge.", param="charge")
    if not ch["paid"]:
        raise StripeError("This charge was not paid and cannot be refunded.", param="charge")
    if ch["disputed"]:
        raise StripeError(
            f"Charge {ch['id']} has been charged back; cannot issue a refund.",
            param="charge",
            code="charge_disputed",
        )
    remaining = ch["amount"] - ch["amount_refunded"]
    if remaining <= 0:
        raise StripeError(
            f"Charge {ch['id']} has already been refunded.",
            param="charge",
            code="charge_already_refunded",
        )
    amount = remaining
    if params.get("amount") not in (None, ""):
        amount = check_amount(
            as_int(params["amount"], "amount", positive=True), ch["currency"], "amount"
        )
    if amount > remaining:
        raise StripeError(
            f"Refund amount ({format_amount(amount, ch['currency'])}) is greater than "
            f"unrefunded amount on charge ({format_amount(remaining, ch['currency'])})",
            param="amount",
            code="amount_too_large",
        )
    reason = params.get("reason") or None
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
        raise StripeError("Invalid reason", param="reason")
    refund = store.base("refund", "re", metadata=merge_metadata({}, params.get("metadata", {})))
    refund.update(
        {
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "charge": ch["id"],
            "currency": ch["currency"],
            "destination_details": {
                "card": {"reference_status": "pending", "type": "refund"},
                "type": "card",
            },
            "payment_intent": ch["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
    )
    store.add(refund)
    before = copy.deepcopy(ch)
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    ch["refunds"]["data"].insert(0, copy.deepcopy(refund))
    ch["refunds"]["total_count"] = len(ch["refunds"]["data"])
    store.emit("charge.refunded", ch, diff_top_level(before, ch))
    store.emit("refund.created", refund)
    return refund
