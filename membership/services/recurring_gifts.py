"""A supporter's recurring gifts: what each is now and what may be done with it (change, pause,
resume, cancel, keep, update the card), and the change Stripe has accepted that our row does not
show yet.

Stripe first, our row follows: every action asks Stripe, and the webhook updates the
subscription row; until it does, the page says the gift is updating.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.dates import add_months
from membership.formatting import format_money
from membership.frequency import FREQUENCY_OF, FrequencyWords, frequency_words
from membership.models import (
    BillingInterval,
    Frequency,
    Subscription,
    SubscriptionStatus,
    Supporter,
)
from membership.payments import schedules
from membership.payments.gateway import StripeGateway
from membership.payments.objects import StripeDataError
from membership.services import next_change
from membership.services.checkout import processing_fee
from membership.services.errors import ServiceError, payment_provider_calls

# Subscriptions a supporter can still change; the others are shown but not offered actions.
MANAGEABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)
SHOWN = (*MANAGEABLE, SubscriptionStatus.UNPAID, SubscriptionStatus.PAUSED)
PAUSE_MONTHS = (1, 2, 3)
# After this long without the webhook, stop saying "updating" and say it is taking a while.
PENDING_PATIENCE_SECONDS = 120


class GiftChangeRefused(ServiceError):
    """The gift cannot be changed that way; the message says why, for the supporter."""


# What may be done with a gift: one table of rules, for the page's buttons and for the actions.


class GiftAction(enum.Enum):
    CHANGE = "change"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    KEEP = "keep"


def refusal(subscription: Subscription, action: GiftAction) -> str | None:
    """Why `action` cannot be done to this gift now, for the supporter; None when it can."""
    if subscription.status not in MANAGEABLE:
        return "This recurring gift has ended, so it can no longer be changed."
    s = subscription
    rules: dict[GiftAction, list[tuple[bool, str]]] = {
        GiftAction.CHANGE: [],
        GiftAction.PAUSE: [
            (s.interval is not BillingInterval.MONTH, "Only monthly gifts can be paused."),
            (s.paused_until is not None, "This gift is already paused."),
        ],
        GiftAction.RESUME: [(s.paused_until is None, "This gift is not paused.")],
        GiftAction.CANCEL: [
            (s.cancel_at_period_end, "This gift already ends at the end of the current period.")
        ],
        GiftAction.KEEP: [(not s.cancel_at_period_end, "This gift is not set to end.")],
    }
    return next((message for broken, message in rules[action] if broken), None)


def _refuse_unless_allowed(subscription: Subscription, action: GiftAction) -> None:
    problem = refusal(subscription, action)
    if problem is not None:
        raise GiftChangeRefused(problem)


class PendingState(enum.Enum):
    UPDATING = "updating"  # Stripe accepted a change; its webhook has not reached us yet
    LATE = "late"  # the same, for longer than we ask people to wait


@dataclass(frozen=True)
class RecurringGift:
    """A recurring gift as its page shows it: the row, the words for it, and what may be done
    with it now (each flag comes from the same rule the action checks)."""

    subscription: Subscription
    next_payment: datetime | None
    manageable: bool
    can_pause: bool
    can_resume: bool
    can_cancel: bool
    can_keep: bool
    has_ended: bool
    past_due: bool
    covers_fee: bool
    frequency: Frequency
    words: FrequencyWords  # `per` is "a month", `label` is "Monthly", ...
    period: str  # the billing period as a noun: "month" or "year" ("the current month")
    pending: PendingState | None = None
    scheduled: next_change.ScheduledChange | None = None  # starts with the next payment

    @property
    def updating(self) -> bool:
        """A change is on its way and the page should look again soon."""
        return self.pending is PendingState.UPDATING

    @property
    def update_is_late(self) -> bool:
        return self.pending is PendingState.LATE


def next_payment(subscription: Subscription) -> datetime | None:
    """When the card is next charged: the period end, or the first one after a pause."""
    if subscription.cancel_at_period_end or subscription.current_period_end is None:
        return None
    when = subscription.current_period_end
    step = 1 if subscription.interval is BillingInterval.MONTH else 12
    if subscription.paused_until is not None:
        # Renewals before the pause ends are skipped (their invoices are voided).
        for _ in range(48):
            if when >= subscription.paused_until:
                break
            when = add_months(when, step)
    return when


def recurring_gift(subscription: Subscription) -> RecurringGift:
    frequency = FREQUENCY_OF[subscription.interval]
    return RecurringGift(
        subscription,
        next_payment(subscription),
        manageable=refusal(subscription, GiftAction.CHANGE) is None,
        can_pause=refusal(subscription, GiftAction.PAUSE) is None,
        can_resume=refusal(subscription, GiftAction.RESUME) is None,
        can_cancel=refusal(subscription, GiftAction.CANCEL) is None,
        can_keep=refusal(subscription, GiftAction.KEEP) is None,
        has_ended=subscription.status is SubscriptionStatus.CANCELED,
        past_due=subscription.status is SubscriptionStatus.PAST_DUE,
        covers_fee=subscription.fee_cents > 0,
        frequency=frequency,
        words=frequency_words(frequency),
        period=subscription.interval.value,
        scheduled=next_change.scheduled_change(subscription),
    )


def shown_gifts(session: Session, supporter: Supporter) -> list[RecurringGift]:
    """The supporter's recurring gifts worth showing (live, paused or unpaid), newest first."""
    subscriptions = session.scalars(
        select(Subscription)
        .where(Subscription.supporter_id == supporter.id, Subscription.status.in_(SHOWN))
        .order_by(Subscription.started_at.desc())
    ).all()
    return [recurring_gift(s) for s in subscriptions]


def owned_subscription(
    session: Session, supporter: Supporter, subscription_id: int
) -> Subscription | None:
    """The supporter's own subscription; None for anyone else's (the view answers 404)."""
    return session.scalar(
        select(Subscription).where(
            Subscription.id == subscription_id, Subscription.supporter_id == supporter.id
        )
    )


def suggested_amounts(subscription: Subscription, *, min_cents: int) -> list[int]:
    """Lower amounts to offer someone about to cancel: about half and a quarter of today's gift,
    in whole currency units, never below the minimum."""
    gift = subscription.gift_cents
    candidates = {max(min_cents, share // 100 * 100) for share in (gift // 2, gift // 4)}
    return sorted(c for c in candidates if c < gift)


# The change Stripe has, until the webhook brings it to our row


@dataclass(frozen=True)
class PendingChange:
    """What a change should look like once Stripe's webhook has updated our row."""

    subscription_id: int
    expect: dict[str, Any]

    def reflected_in(self, subscription: Subscription) -> bool:
        if subscription.status is SubscriptionStatus.CANCELED:
            return True
        for key, wanted in self.expect.items():
            if key == "paused_until":
                actual: Any = (
                    int(subscription.paused_until.timestamp())
                    if subscription.paused_until
                    else None
                )
            elif key == "interval":
                actual = subscription.interval.value
            else:
                actual = getattr(subscription, key)
            if actual != wanted:
                return False
        return True

    def remembered(self, *, now: datetime) -> dict[str, Any]:
        """The change as plain data for the browser's session, stamped with when it was made."""
        return {"expect": self.expect, "since": int(now.timestamp())}


def settle_pending(
    remembered: Mapping[str, Any], gifts: Sequence[RecurringGift], *, now: datetime
) -> tuple[list[RecurringGift], dict[str, Any]]:
    """The gifts with their pending state (updating, or late), and the remembered changes still
    worth keeping: those the rows now reflect are forgotten; others' gifts are left alone."""
    shown: list[RecurringGift] = []
    keep = {k: v for k, v in remembered.items() if k not in {str(g.subscription.id) for g in gifts}}
    for gift in gifts:
        key = str(gift.subscription.id)
        entry = remembered.get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("expect"), dict):
            shown.append(gift)
            continue
        if PendingChange(gift.subscription.id, entry["expect"]).reflected_in(gift.subscription):
            shown.append(gift)
            continue
        waited = now.timestamp() - float(entry.get("since") or 0)
        late = waited > PENDING_PATIENCE_SECONDS
        shown.append(replace(gift, pending=PendingState.LATE if late else PendingState.UPDATING))
        keep[key] = entry
    return shown, keep


# Actions: Stripe first, our row follows from the webhook


@payment_provider_calls()
def change_gift(
    session: Session,
    gateway: StripeGateway,
    subscription: Subscription,
    *,
    gift_cents: int,
    interval: BillingInterval,
    cover_fee: bool,
    config: Config,
) -> PendingChange:
    """New amount and/or interval from the next payment on (proration off)."""
    _refuse_unless_allowed(subscription, GiftAction.CHANGE)
    if not config.min_amount_cents <= gift_cents <= config.max_amount_cents:
        lowest, highest = (
            format_money(cents, subscription.currency, locale=config.locale)
            for cents in (config.min_amount_cents, config.max_amount_cents)
        )
        raise GiftChangeRefused(f"Choose an amount between {lowest} and {highest}.")
    fee = (
        processing_fee(
            gift_cents, config.fee_percent, config.fee_fixed_cents, subscription.currency
        )
        if cover_fee
        else 0
    )
    total = gift_cents + fee
    if (total, fee, interval) == (
        subscription.amount_cents,
        subscription.fee_cents,
        subscription.interval,
    ) and not next_change.pending(subscription):
        raise GiftChangeRefused("That is already your gift: nothing to change.")
    remote = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    if remote.item_id is None or remote.product_id is None:
        raise GiftChangeRefused("We couldn't change this gift. Please write to us.")
    metadata = {"gift_cents": str(gift_cents), "fee_cents": str(fee)}
    period_end = remote.current_period_end
    switching = remote.interval is not None and remote.interval != interval.value
    if (switching or remote.schedule_id) and period_end is not None:
        # Stripe restarts the billing cycle (and charges at once) when the interval changes by
        # an update: a schedule phase from the paid period's end keeps "from the next payment
        # on" true, without a trial that would move the anchor.
        try:
            schedules.change_at_renewal(
                gateway,
                subscription.stripe_subscription_id,
                schedule_id=remote.schedule_id,
                period_end=period_end,
                product_id=remote.product_id,
                amount_cents=total,
                currency=subscription.currency,
                interval=interval.value,
                metadata=metadata,
            )
        except StripeDataError as error:
            raise GiftChangeRefused("We couldn't change this gift. Please write to us.") from error
        # Our row changes when the phase starts, at the renewal: nothing to wait for now, but
        # the page says what is coming.
        next_change.note(
            subscription, amount_cents=total, fee_cents=fee, interval=interval, starts=period_end
        )
        session.flush()
        return PendingChange(subscription.id, {})
    else:
        schedules.change_price(
            gateway,
            subscription.stripe_subscription_id,
            item_id=remote.item_id,
            product_id=remote.product_id,
            amount_cents=total,
            currency=subscription.currency,
            interval=interval.value,
            metadata=metadata,
        )
    return PendingChange(
        subscription.id, {"amount_cents": total, "fee_cents": fee, "interval": interval.value}
    )


@payment_provider_calls()
def pause_gift(
    gateway: StripeGateway, subscription: Subscription, *, months: int, now: datetime
) -> PendingChange:
    """Skip the payments of the next 1-3 months; collection resumes by itself afterwards."""
    _refuse_unless_allowed(subscription, GiftAction.CHANGE)
    if months not in PAUSE_MONTHS:
        raise GiftChangeRefused("Choose a pause of one, two or three months.")
    _refuse_unless_allowed(subscription, GiftAction.PAUSE)
    resumes_at = int(add_months(now, months).timestamp())
    gateway.pause_subscription(subscription.stripe_subscription_id, resumes_at=resumes_at)
    return PendingChange(subscription.id, {"paused_until": resumes_at})


@payment_provider_calls()
def resume_gift(gateway: StripeGateway, subscription: Subscription) -> PendingChange:
    _refuse_unless_allowed(subscription, GiftAction.RESUME)
    gateway.resume_subscription(subscription.stripe_subscription_id)
    return PendingChange(subscription.id, {"paused_until": None})


@payment_provider_calls()
def cancel_gift_at_period_end(gateway: StripeGateway, subscription: Subscription) -> PendingChange:
    _refuse_unless_allowed(subscription, GiftAction.CANCEL)
    gateway.set_cancel_at_period_end(subscription.stripe_subscription_id, True)
    return PendingChange(subscription.id, {"cancel_at_period_end": True})


@payment_provider_calls()
def keep_gift(gateway: StripeGateway, subscription: Subscription) -> PendingChange:
    """Undo a cancellation before the period ends."""
    _refuse_unless_allowed(subscription, GiftAction.KEEP)
    gateway.set_cancel_at_period_end(subscription.stripe_subscription_id, False)
    return PendingChange(subscription.id, {"cancel_at_period_end": False})


@payment_provider_calls()
def card_update_url(gateway: StripeGateway, subscription: Subscription, *, return_url: str) -> str:
    """Stripe's billing portal of this gift's own customer, opened on its card-update flow.

    Not the supporter's first customer: Checkout makes a customer per session, so a supporter
    who gave twice has two, and only the subscription's own holds its card. A row recorded
    before we kept customers asks Stripe for the subscription's customer."""
    customer = subscription.stripe_customer_id
    if customer is None:
        customer = gateway.retrieve_subscription(subscription.stripe_subscription_id).customer_id
    if not customer:
        raise GiftChangeRefused("We couldn't open the card page for this gift. Please write to us.")
    url = gateway.create_billing_portal_session(
        customer, return_url=return_url, flow="payment_method_update"
    ).url
    if url is None:
        raise GiftChangeRefused("We couldn't open the card page for this gift. Please try again.")
    return url
