"""Subscription schedules: "from the next renewal on" as Stripe does it.

`from_subscription` wraps a subscription in a schedule whose one phase is its current period;
an update adds a phase that starts where that period ends (a new price, another interval, new
subscription metadata). At the renewal the next phase starts: the item takes its price, the
billing cycle restarts at the phase's start, and with ``end_behavior=release`` the schedule lets
the subscription go on alone after its last phase begins. No trial, no proration.
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_standin import prices, subscriptions
from stripe_standin.clock import INTERVAL_MONTHS, add_months, now
from stripe_standin.errors import StripeError
from stripe_standin.params import as_dict, as_int, as_str, merge_metadata
from stripe_standin.store import JSON, Store


def create(store: Store, params: JSON) -> JSON:
    """``POST /v1/subscription_schedules`` with ``from_subscription``."""
    sub_id = params.get("from_subscription")
    if not sub_id:
        raise StripeError(
            "The stand-in only creates schedules from_subscription.", param="from_subscription"
        )
    sub = store.get("subscription", as_str(sub_id, "from_subscription"), "from_subscription")
    if sub["schedule"]:
        raise StripeError(
            f"You cannot migrate a subscription that is already attached to a schedule: "
            f"`{sub['schedule']}`.",
            param="from_subscription",
        )
    if sub["status"] == "canceled":
        raise StripeError(
            "A canceled subscription cannot get a schedule.", param="from_subscription"
        )
    item = subscriptions.first_item(sub)
    schedule = store.base("subscription_schedule", "sub_sched", metadata={})
    phase = {
        "start_date": item["current_period_start"],
        "end_date": item["current_period_end"],
        "items": [{"price": item["price"]["id"], "quantity": item["quantity"], "metadata": {}}],
        "metadata": {},
        "proration_behavior": "create_prorations",
        "trial_end": None,
    }
    schedule.update(
        {
            "application": None,
            "canceled_at": None,
            "completed_at": None,
            "current_phase": {"start_date": phase["start_date"], "end_date": phase["end_date"]},
            "customer": sub["customer"],
            "default_settings": {"collection_method": "charge_automatically"},
            "end_behavior": "release",
            "phases": [phase],
            "released_at": None,
            "released_subscription": None,
            "status": "active",
            "subscription": sub["id"],
            "test_clock": None,
        }
    )
    store.add(schedule)
    before = copy.deepcopy(sub)
    sub["schedule"] = schedule["id"]
    store.emit("subscription_schedule.created", schedule)
    store.emit_changes("customer.subscription.updated", sub, before)
    return schedule


def _phase(store: Store, raw: Any, n: int, start: int) -> JSON:
    param = f"phases[{n}]"
    data = as_dict(raw, param)
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or len(raw_items) != 1:
        raise StripeError(f"The stand-in needs exactly one item in {param}[items].", param=param)
    entry = as_dict(raw_items[0], f"{param}[items][0]")
    if entry.get("price_data"):
        price = prices.create(
            store,
            as_dict(entry["price_data"], f"{param}[items][0][price_data]"),
            f"{param}[items][0][price_data]",
            recurring_required=True,
        )
    else:
        price = store.get("price", as_str(entry.get("price") or "", "price"), f"{param}[items]")
    if "trial_end" in data or "trial" in data:
        raise StripeError("The stand-in does not simulate trials.", param=f"{param}[trial_end]")
    start_date = as_int(data.get("start_date", start), f"{param}[start_date]", positive=True)
    months = INTERVAL_MONTHS[price["recurring"]["interval"]]
    end_date = (
        as_int(data["end_date"], f"{param}[end_date]", positive=True)
        if data.get("end_date")
        else add_months(start_date, months)  # one iteration of its price
    )
    if end_date <= start_date:
        raise StripeError(f"{param}[end_date] must be after its start.", param=f"{param}[end_date]")
    return {
        "start_date": start_date,
        "end_date": end_date,
        "items": [
            {"price": price["id"], "quantity": int(entry.get("quantity") or 1), "metadata": {}}
        ],
        "metadata": merge_metadata({}, data.get("metadata", {}), f"{param}[metadata]"),
        "proration_behavior": data.get("proration_behavior") or "create_prorations",
        "trial_end": None,
    }


def update(store: Store, schedule: JSON, params: JSON) -> JSON:
    """``POST /v1/subscription_schedules/<id>``: replace the phases (the current one first)."""
    if schedule["status"] not in ("not_started", "active"):
        raise StripeError(
            f"You cannot update a subscription schedule that is {schedule['status']}.",
            param="phases",
        )
    if "phases" in params:
        raw = params["phases"]
        if not isinstance(raw, list) or not raw:
            raise StripeError("Missing required param: phases.", param="phases")
        current = schedule["current_phase"]
        phases: list[JSON] = []
        start = current["start_date"]
        for n, entry in enumerate(raw):
            phase = _phase(store, entry, n, start)
            if n == 0 and phase["start_date"] != current["start_date"]:
                raise StripeError(
                    "You cannot change the start date of the current phase.",
                    param="phases[0][start_date]",
                )
            if n > 0 and phase["start_date"] != phases[-1]["end_date"]:
                raise StripeError(
                    f"phases[{n}] must start when phases[{n - 1}] ends.",
                    param=f"phases[{n}][start_date]",
                )
            phases.append(phase)
            start = phase["end_date"]
        schedule["phases"] = phases
        schedule["current_phase"] = {
            "start_date": phases[0]["start_date"],
            "end_date": phases[0]["end_date"],
        }
    if params.get("end_behavior"):
        if params["end_behavior"] not in ("release", "cancel"):
            raise StripeError("Invalid end_behavior", param="end_behavior")
        schedule["end_behavior"] = params["end_behavior"]
    store.emit("subscription_schedule.updated", schedule)
    return schedule


def start_due_phase(store: Store, sub: JSON) -> bool:
    """At a renewal: start the schedule's next phase if it begins now. True if one did."""
    schedule = store.objects.get(sub["schedule"] or "")
    if schedule is None or schedule["status"] != "active":
        return False
    period_end = subscriptions.first_item(sub)["current_period_end"]
    upcoming = [p for p in schedule["phases"] if p["start_date"] == period_end]
    if not upcoming:
        return False
    phase = upcoming[0]
    item = subscriptions.first_item(sub)
    item["price"] = copy.deepcopy(store.objects[phase["items"][0]["price"]])
    item["quantity"] = phase["items"][0]["quantity"]
    sub["metadata"] = merge_metadata(sub["metadata"], phase["metadata"])
    # The billing cycle restarts where the phase starts (its interval may differ).
    sub["billing_cycle_anchor"] = phase["start_date"]
    store.private[sub["id"]]["months_elapsed"] = 0
    schedule["current_phase"] = {"start_date": phase["start_date"], "end_date": phase["end_date"]}
    if phase is schedule["phases"][-1] and schedule["end_behavior"] == "release":
        schedule["status"] = "released"
        schedule["released_at"] = now()
        schedule["released_subscription"] = sub["id"]
        sub["schedule"] = None
        store.emit("subscription_schedule.released", schedule)
    else:
        store.emit("subscription_schedule.updated", schedule)
    return True
