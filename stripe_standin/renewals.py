"""The end of a subscription period (admin endpoints): renew, fail, and recovery after a new card.

Renewal while paused (``pause_collection``) follows the pause's behaviour for the new invoice.
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_standin import invoices, schedules, subscriptions
from stripe_standin.clock import INTERVAL_MONTHS, add_months
from stripe_standin.errors import StripeError
from stripe_standin.store import JSON, Store


def recover_past_due(store: Store, customer: JSON, pm: JSON, subscription_id: Any) -> None:
    """Make ``pm`` the default of past_due subscriptions and retry their open invoices."""
    if isinstance(subscription_id, str) and subscription_id in store.objects:
        candidates = [store.get("subscription", subscription_id)]
    else:
        candidates = [s for s in store.all("subscription") if s["customer"] == customer["id"]]
    for sub in candidates:
        if sub["status"] not in ("past_due", "unpaid", "incomplete"):
            continue
        before = copy.deepcopy(sub)
        sub["default_payment_method"] = pm["id"]
        for invoice in invoices.open_for_subscription(store, sub["id"]):
            invoices.pay(store, invoice, pm["id"], update_subscription=False)
        if not invoices.open_for_subscription(store, sub["id"]):
            sub["status"] = "active"
        store.emit_changes("customer.subscription.updated", sub, before)


def _advance_period(store: Store, sub: JSON) -> tuple[int, int, int]:
    """Move the item's period forward; returns (old_start, new_start, new_end)."""
    item = subscriptions.first_item(sub)
    months = INTERVAL_MONTHS[item["price"]["recurring"]["interval"]]
    private = store.private[sub["id"]]
    private["months_elapsed"] = private.get("months_elapsed", months) + months
    old_start = item["current_period_start"]
    new_start = item["current_period_end"]
    new_end = add_months(sub["billing_cycle_anchor"], private["months_elapsed"])
    item["current_period_start"] = new_start
    item["current_period_end"] = new_end
    return old_start, new_start, new_end


def renew(store: Store, sub: JSON, *, fail: bool = False) -> JSON:
    """Simulate the end of the current period (admin endpoint)."""
    if sub["status"] == "canceled":
        raise StripeError("This subscription is canceled.", param="subscription")
    if sub["cancel_at_period_end"]:
        return subscriptions.cancel(
            store, sub, at=subscriptions.first_item(sub)["current_period_end"]
        )
    before = copy.deepcopy(sub)
    pause = sub["pause_collection"]
    if (
        pause
        and pause["resumes_at"]
        and pause["resumes_at"] <= subscriptions.first_item(sub)["current_period_end"]
    ):
        sub["pause_collection"] = pause = None
    schedules.start_due_phase(store, sub)
    old_start, new_start, new_end = _advance_period(store, sub)
    invoice = invoices.create(store, sub, "subscription_cycle", period=(old_start, new_start))
    if pause and not fail:
        behavior = pause["behavior"]
        if behavior == "void":
            invoices.finalize(store, invoice)
            invoices.void(store, invoice)
        elif behavior == "mark_uncollectible":
            invoices.finalize(store, invoice)
            invoices.mark_uncollectible(store, invoice)
        # keep_as_draft: the invoice stays a draft
    else:
        invoices.finalize(store, invoice)
        pm_id = subscriptions.default_payment_method(store, sub)
        if fail:
            invoices.fail(store, invoice, pm_id)
        else:
            invoices.pay(store, invoice, pm_id, update_subscription=False)
            if sub["status"] == "past_due" and not invoices.open_for_subscription(store, sub["id"]):
                sub["status"] = "active"
            if sub["status"] == "trialing":
                sub["status"] = "active"  # the trial ended with this period
    store.emit_changes("customer.subscription.updated", sub, before)
    return invoice
