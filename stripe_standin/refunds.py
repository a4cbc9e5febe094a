"""Refunds: Stripe's checks on what may be refunded, the refund, and the charge's refunded total.

As at Stripe, a refund starts `pending` and then settles: `succeeded`, or `failed` for a charge
of test card 4000000000005126, which gives the charge its refunded amount back
(`refund.updated`, `refund.failed`, `charge.refund.updated`). The API answers with the pending
refund; the stand-in settles it right after, so its events race the ones before it.
"""

from __future__ import annotations

import copy

from stripe_standin import cards
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
    dispute = store.objects.get(store.private[ch["id"]].get("dispute", ""))
    if dispute is not None and not dispute["is_charge_refundable"]:
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
            "failure_reason": None,
            "status": "pending",
            "transfer_reversal": None,
        }
    )
    store.add(refund)
    _change_refunded(store, ch, refund, amount, "charge.refunded")
    store.emit("refund.created", refund)
    answer = copy.deepcopy(refund)
    _settle(store, ch, refund)
    return answer


def _change_refunded(store: Store, ch: JSON, refund: JSON, amount: int, event: str | None) -> None:
    """The charge's refunded total moves by ``amount``; its refunds list shows ``refund`` now."""
    before = copy.deepcopy(ch)
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    listed = [r for r in ch["refunds"]["data"] if r["id"] != refund["id"]]
    ch["refunds"]["data"] = [copy.deepcopy(refund), *listed]
    ch["refunds"]["total_count"] = len(ch["refunds"]["data"])
    if event is not None:
        store.emit(event, ch, diff_top_level(before, ch))


def _settle(store: Store, ch: JSON, refund: JSON) -> None:
    """The bank's answer: succeeded, or failed for the refund-failing test card. The events
    about it carry the refund (``charge.refund.updated`` too), not the charge."""
    before = copy.deepcopy(refund)
    if cards.last4_of(store, ch["payment_method"]) == cards.REFUND_FAILS:
        refund["status"] = "failed"
        refund["failure_reason"] = "expired_or_canceled_card"
        refund["failure_balance_transaction"] = new_id("txn")
        _change_refunded(store, ch, refund, -refund["amount"], None)
        store.emit("refund.failed", refund)
    else:
        refund["status"] = "succeeded"
        refund["destination_details"]["card"]["reference_status"] = "available"
        _change_refunded(store, ch, refund, 0, None)
    previous = diff_top_level(before, refund)
    store.emit("refund.updated", refund, previous)
    store.emit("charge.refund.updated", refund, previous)
