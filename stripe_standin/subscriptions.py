"""Subscriptions: create (from Checkout), update (items, pause, cancel at period end), cancel.

What happens at the end of a period is in :mod:`stripe_standin.renewals`.
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_standin import prices
from stripe_standin.clock import INTERVAL_MONTHS, add_months, now
from stripe_standin.errors import StripeError
from stripe_standin.params import as_bool, as_dict, as_int, as_str, merge_metadata
from stripe_standin.store import JSON, Store


def create(
    store: Store, customer: JSON, price: JSON, quantity: int, default_pm: str | None
) -> JSON:
    """An active subscription of one item at ``price``, its first period starting now."""
    start = now()
    sub = store.base("subscription", "sub", metadata={})
    interval = price["recurring"]["interval"]
    item = store.base("subscription_item", "si", metadata={})
    item.update(
        {
            "billing_thresholds": None,
            "current_period_end": add_months(start, INTERVAL_MONTHS[interval]),
            "current_period_start": start,
            "discounts": [],
            "price": copy.deepcopy(price),
            "quantity": quantity,
            "subscription": sub["id"],
            "tax_rates": [],
        }
    )
    item["created"] = start
    sub.update(
        {
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": start,
            "billing_cycle_anchor_config": None,
            "billing_mode": {"flexible": None, "type": "classic"},
            "billing_thresholds": None,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "currency": price["currency"],
            "customer": customer["id"],
            "days_until_due": None,
            "default_payment_method": default_pm,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": {
                "object": "list",
                "data": [item],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={sub['id']}",
            },
            "latest_invoice": None,
            "next_pending_invoice_item_invoice": None,
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "schedule": None,
            "start_date": start,
            "status": "active",
            "test_clock": None,
            "transfer_data": None,
            "trial_end": None,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": None,
        }
    )
    sub["created"] = start
    store.private[sub["id"]]["months_elapsed"] = INTERVAL_MONTHS[interval]
    store.add(sub)
    store.objects[item["id"]] = item  # retrievable, listed through the subscription
    return sub


def first_item(sub: JSON) -> JSON:
    item: JSON = sub["items"]["data"][0]
    return item


def update(store: Store, sub: JSON, params: JSON) -> JSON:
    """``POST /v1/subscriptions/<id>``: changes take effect at the next renewal (no proration)."""
    if sub["status"] == "canceled":
        allowed = {"metadata", "cancellation_details", "expand"}
        if set(params) - allowed:
            raise StripeError(
                "A canceled subscription can only update its cancellation_details and metadata.",
                param=sorted(set(params) - allowed)[0],
            )
    before = copy.deepcopy(sub)
    known = {
        "items",
        "cancel_at_period_end",
        "pause_collection",
        "metadata",
        "proration_behavior",
        "default_payment_method",
        "description",
        "expand",
        "cancellation_details",
        "payment_behavior",
        "trial_end",
    }
    unknown = sorted(set(params) - known)
    if unknown:
        raise StripeError(f"Received unknown parameter: {unknown[0]}", param=unknown[0])
    if params.get("proration_behavior") not in (
        None,
        "none",
        "create_prorations",
        "always_invoice",
    ):
        raise StripeError("Invalid proration_behavior", param="proration_behavior")
    if "trial_end" in params:
        _start_trial(store, sub, params["trial_end"])
    if "items" in params:
        _update_items(store, sub, params["items"])
    if "cancel_at_period_end" in params:
        flag = as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
        sub["cancel_at_period_end"] = flag
        sub["cancel_at"] = first_item(sub)["current_period_end"] if flag else None
        sub["canceled_at"] = now() if flag else None
        if not flag:
            sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}
        else:
            sub["cancellation_details"]["reason"] = "cancellation_requested"
    if "pause_collection" in params:
        raw = params["pause_collection"]
        if raw == "":
            sub["pause_collection"] = None
        else:
            pause = as_dict(raw, "pause_collection")
            behavior = pause.get("behavior")
            if behavior not in ("keep_as_draft", "mark_uncollectible", "void"):
                raise StripeError(
                    "Invalid pause_collection[behavior]: must be one of keep_as_draft, "
                    "mark_uncollectible, or void",
                    param="pause_collection[behavior]",
                )
            resumes_at = None
            if pause.get("resumes_at") not in (None, ""):
                resumes_at = as_int(
                    pause["resumes_at"], "pause_collection[resumes_at]", positive=True
                )
            sub["pause_collection"] = {"behavior": behavior, "resumes_at": resumes_at}
    if "metadata" in params:
        sub["metadata"] = merge_metadata(sub["metadata"], params["metadata"])
    if "description" in params:
        sub["description"] = as_str(params["description"], "description") or None
    if "default_payment_method" in params:
        pm_id = as_str(params["default_payment_method"], "default_payment_method")
        if pm_id:
            store.get("payment_method", pm_id, "default_payment_method")
        sub["default_payment_method"] = pm_id or None
    store.emit_changes("customer.subscription.updated", sub, before)
    return sub


def _start_trial(store: Store, sub: JSON, raw: Any) -> None:
    """What Stripe does with ``trial_end`` on an update: the subscription is ``trialing`` until
    then, its current period becomes the trial, and its billing cycle re-anchors at the trial's
    end. (``now`` ends a trial at once.)"""
    item = first_item(sub)
    if raw == "now":
        if sub["status"] == "trialing":
            sub["status"] = "active"
            sub["trial_end"] = now()
        return
    trial_end = as_int(raw, "trial_end", positive=True)
    if trial_end <= now():
        raise StripeError("Invalid timestamp: must be in the future", param="trial_end")
    sub["status"] = "trialing"
    sub["trial_start"] = now()
    sub["trial_end"] = trial_end
    sub["billing_cycle_anchor"] = trial_end
    item["current_period_start"] = now()
    item["current_period_end"] = trial_end
    store.private[sub["id"]]["months_elapsed"] = 0


def _update_items(store: Store, sub: JSON, raw_items: Any) -> None:
    if not isinstance(raw_items, list):
        raise StripeError("Invalid array: items", param="items")
    for i, raw in enumerate(raw_items):
        param = f"items[{i}]"
        entry = as_dict(raw, param)
        item_id = entry.get("id")
        matching = [it for it in sub["items"]["data"] if it["id"] == item_id]
        if not item_id or not matching:
            raise StripeError(
                "The stand-in can only change the existing subscription item; pass "
                f"items[{i}][id].",
                param=f"{param}[id]",
            )
        item = matching[0]
        if entry.get("price_data"):
            price = prices.create(
                store,
                as_dict(entry["price_data"], f"{param}[price_data]"),
                f"{param}[price_data]",
                recurring_required=True,
            )
            item["price"] = copy.deepcopy(price)
        elif entry.get("price"):
            price = store.get("price", as_str(entry["price"], "price"), f"{param}[price]")
            if price["recurring"] is None:
                raise StripeError("The price must be recurring.", param=f"{param}[price]")
            item["price"] = copy.deepcopy(price)
        if "quantity" in entry:
            item["quantity"] = as_int(entry["quantity"], f"{param}[quantity]", positive=True)
        if "metadata" in entry:
            item["metadata"] = merge_metadata(item["metadata"], entry["metadata"])
        store.objects[item["id"]] = item


def cancel(store: Store, sub: JSON, *, at: int | None = None) -> JSON:
    """End the subscription now (``DELETE``) or ``at`` its period end (a renewal)."""
    if sub["status"] == "canceled":
        raise StripeError(
            f"This subscription has already been canceled: {sub['id']}",
            param="subscription",
        )
    ts = now() if at is None else at
    sub["status"] = "canceled"
    sub["ended_at"] = ts
    if not sub["canceled_at"]:
        sub["canceled_at"] = now()
    sub["cancel_at"] = sub["cancel_at"] if sub["cancel_at_period_end"] else None
    if not sub["cancellation_details"]["reason"]:
        sub["cancellation_details"]["reason"] = "cancellation_requested"
    store.emit("customer.subscription.deleted", sub)
    return sub


def default_payment_method(store: Store, sub: JSON) -> str | None:
    """The card a renewal charges: the subscription's default, else the customer's."""
    if sub["default_payment_method"]:
        return str(sub["default_payment_method"])
    cust = store.objects.get(sub["customer"])
    if cust and cust["invoice_settings"]["default_payment_method"]:
        return str(cust["invoice_settings"]["default_payment_method"])
    return None
