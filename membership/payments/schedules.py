"""Changes from the next renewal on, through a subscription schedule (Stripe's way).

An interval switch by a plain subscription update restarts the billing cycle and charges at
once; with `trial_end` the subscription turns `trialing` and its anchor moves. A schedule whose
next phase starts where the paid period ends does neither: the current phase keeps the price
and period, the next one brings the new price, interval and metadata, and the schedule then
releases the subscription.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from membership.payments.fields import Fields, StripeDataError
from membership.payments.gateway import StripeGateway
from membership.payments.objects import SubscriptionSnapshot


@dataclass(frozen=True)
class SchedulePhase:
    start: datetime | None
    end: datetime | None
    price_id: str | None
    quantity: int


@dataclass(frozen=True)
class SubscriptionSchedule:
    id: str
    status: str | None
    phases: tuple[SchedulePhase, ...]

    @classmethod
    def parse(cls, data: object) -> SubscriptionSchedule:
        f = Fields(data, "subscription schedule")
        phases = []
        for n, raw in enumerate(f.objects("phases")):
            phase = Fields(raw, f"subscription schedule.phases[{n}]")
            items = phase.objects("items")
            item = Fields(items[0] if items else {}, "phase item")
            phases.append(
                SchedulePhase(
                    start=phase.timestamp("start_date"),
                    end=phase.timestamp("end_date"),
                    price_id=item.reference("price"),
                    quantity=item.whole("quantity") or 1,
                )
            )
        return cls(id=f.required_text("id"), status=f.text("status"), phases=tuple(phases))


def change_at_renewal(
    gateway: StripeGateway,
    subscription_id: str,
    *,
    schedule_id: str | None,
    period_end: datetime,
    product_id: str,
    amount_cents: int,
    currency: str,
    interval: str,
    metadata: Mapping[str, str],
) -> SubscriptionSchedule:
    """From `period_end` on: the new price (and interval) and metadata; nothing charged now.

    A subscription already on one of our schedules (an earlier change not yet due) has its
    next phase replaced.
    """
    schedules = gateway.api().v1.subscription_schedules
    parse = SubscriptionSchedule.parse
    if schedule_id is None:
        schedule = gateway.call(
            "subscription schedule",
            parse,
            schedules.create,
            params={"from_subscription": subscription_id},
        )
    else:
        schedule = gateway.call("subscription schedule", parse, schedules.retrieve, schedule_id)
    current = next((p for p in schedule.phases if p.end and p.end >= period_end), None)
    if current is None or current.start is None or current.price_id is None:
        raise StripeDataError(f"schedule {schedule.id} has no phase for the current period")
    phases: list[dict[str, Any]] = [
        {
            "items": [{"price": current.price_id, "quantity": current.quantity}],
            "start_date": int(current.start.timestamp()),
            "end_date": int(period_end.timestamp()),
            "proration_behavior": "none",
        },
        {
            "items": [
                {
                    "price_data": {
                        "currency": currency,
                        "product": product_id,
                        "unit_amount": amount_cents,
                        "recurring": {"interval": interval},
                    },
                    "quantity": 1,
                }
            ],
            "start_date": int(period_end.timestamp()),
            "metadata": dict(metadata),
            "proration_behavior": "none",
        },
    ]
    return gateway.call(
        "subscription schedule",
        parse,
        schedules.update,
        schedule.id,
        params={"phases": phases, "end_behavior": "release", "proration_behavior": "none"},
    )


def change_price(
    gateway: StripeGateway,
    subscription_id: str,
    *,
    item_id: str,
    product_id: str,
    amount_cents: int,
    currency: str,
    interval: str,
    metadata: Mapping[str, str],
) -> SubscriptionSnapshot:
    """A new amount (same interval) from the next payment: a plain subscription update with no
    proration, nothing charged now. The metadata (gift_cents/fee_cents) changes in the same
    call, so every later invoice splits into gift and covered fee correctly."""
    return gateway.call(
        "subscription update",
        SubscriptionSnapshot.parse,
        gateway.api().v1.subscriptions.update,
        subscription_id,
        params={
            "items": [
                {
                    "id": item_id,
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount_cents,
                        "product": product_id,
                        "recurring": {"interval": interval},
                    },
                }
            ],
            "proration_behavior": "none",
            "metadata": dict(metadata),
        },
    )
