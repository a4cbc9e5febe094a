"""Subscription rows: created from the reader's intent or from Stripe's object, then kept in step
with Stripe's newest snapshot (and the MRR spans with them)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.frequency import INTERVAL_OF
from membership.models import (
    BillingInterval,
    DonationIntent,
    Subscription,
    SubscriptionStatus,
    Supporter,
)
from membership.payments.gateway import StripeGateway
from membership.payments.objects import GiftMetadata, SubscriptionSnapshot
from membership.services import next_change
from membership.services.integrations import events
from membership.services.ledger.donations import intent_for, split_payment
from membership.services.mrr import record_mrr
from membership.services.sql import insert_or_ignore
from membership.services.supporters import find_or_create_supporter

log = logging.getLogger(__name__)

SOLD_INTERVALS = ("month", "year")


def subscription_row(session: Session, stripe_id: str) -> Subscription | None:
    return session.scalar(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_id)
    )


def create_subscription_from_intent(
    session: Session,
    stripe_id: str,
    *,
    intent: DonationIntent | None,
    gift: GiftMetadata,
    total: int | None,
    supporter: Supporter | None,
    customer_id: str | None,
    currency: str,
    paid: bool,
    now: datetime,
) -> Subscription | None:
    """The row for a subscription started from our form (None when it was not)."""
    if intent is None or intent.frequency not in INTERVAL_OF:
        return None
    amount = total or intent.total_cents
    _gift, fee = split_payment(amount, gift, intent)
    created = insert_or_ignore(
        session,
        Subscription,
        {
            "stripe_subscription_id": stripe_id,
            "stripe_customer_id": customer_id,
            "supporter_id": supporter.id if supporter else None,
            "intent_id": intent.id,
            "amount_cents": amount,
            "fee_cents": fee,
            "currency": currency.lower(),
            "interval": INTERVAL_OF[intent.frequency],
            "status": SubscriptionStatus.ACTIVE if paid else SubscriptionStatus.INCOMPLETE,
            "cancel_at_period_end": False,
            "source_article_id": intent.source_article_id,
            "variant_id": intent.variant_id,
            "started_at": now,
        },
        ["stripe_subscription_id"],
    )
    row = subscription_row(session, stripe_id)
    if row is not None:
        record_mrr(session, row, now)
        if created is not None:
            events.subscription_event(session, "subscription.created", row)
    return row


def refresh_subscription(
    session: Session, stripe_id: str, *, gateway: StripeGateway, config: Config, now: datetime
) -> Subscription | None:
    """Bring our row in line with the subscription as Stripe has it now.

    Subscription events are handled this way rather than from the event's own snapshot: events
    arrive in any order and several can share one second, but the object fetched now is the
    newest state there is, so every order of delivery ends in the same state.
    """
    return apply_subscription(
        session, gateway.retrieve_subscription(stripe_id), event_created=now, config=config, now=now
    )


def _insert_from_snapshot(
    session: Session, snapshot: SubscriptionSnapshot, *, config: Config, now: datetime
) -> Subscription | None:
    """A subscription we hear of before (or without) its Checkout Session."""
    if snapshot.amount_cents is None or snapshot.interval not in SOLD_INTERVALS:
        log.warning("subscription %s has no usable price; ignored", snapshot.id)
        return None
    intent = intent_for(session, snapshot.gift.intent_id)
    supporter = find_or_create_supporter(
        session,
        email=intent.email if intent else None,
        stripe_customer_id=snapshot.customer_id,
    )
    _gift, fee = split_payment(snapshot.amount_cents, snapshot.gift, intent)
    created = insert_or_ignore(
        session,
        Subscription,
        {
            "stripe_subscription_id": snapshot.id,
            "stripe_customer_id": snapshot.customer_id,
            "supporter_id": supporter.id if supporter else None,
            "intent_id": intent.id if intent else None,
            "amount_cents": snapshot.amount_cents,
            "fee_cents": fee,
            "currency": (snapshot.currency or config.currency).lower(),
            "interval": BillingInterval(snapshot.interval),
            "status": SubscriptionStatus.INCOMPLETE,
            "cancel_at_period_end": False,
            "source_article_id": intent.source_article_id if intent else None,
            "variant_id": intent.variant_id if intent else None,
            "started_at": snapshot.start_date or snapshot.created or now,
        },
        ["stripe_subscription_id"],
    )
    row = subscription_row(session, snapshot.id)
    if row is not None and created is not None:
        events.subscription_event(session, "subscription.created", row)
    return row


def apply_subscription(
    session: Session,
    snapshot: SubscriptionSnapshot,
    *,
    event_created: datetime,
    config: Config,
    now: datetime,
) -> Subscription | None:
    """Bring our row in line with a Stripe subscription snapshot taken at `event_created`."""
    row = session.scalar(
        select(Subscription)
        .where(Subscription.stripe_subscription_id == snapshot.id)
        .with_for_update()
    )
    if row is None:
        row = _insert_from_snapshot(session, snapshot, config=config, now=now)
        if row is None:
            return None
    if row.stripe_updated_at is not None and event_created < row.stripe_updated_at:
        return row  # an older snapshot: newer state is already applied
    if row.status is SubscriptionStatus.CANCELED and snapshot.status != "canceled":
        return row  # cancellation is final; a stale "active" never revives it
    before = _webhook_state(row)
    if snapshot.status is not None:
        try:
            row.status = SubscriptionStatus(snapshot.status)
        except ValueError:
            log.warning("unknown subscription status %r on %s", snapshot.status, snapshot.id)
    amount = snapshot.amount_cents
    if amount is not None and amount > 0:
        _gift, fee = split_payment(amount, snapshot.gift, None)
        row.fee_cents = fee if fee < amount else 0
        row.amount_cents = amount
    if snapshot.interval in SOLD_INTERVALS:
        row.interval = BillingInterval(snapshot.interval)
    if snapshot.current_period_end is not None:
        row.current_period_end = snapshot.current_period_end
    row.cancel_at_period_end = snapshot.cancel_at_period_end
    row.canceled_at = snapshot.canceled_at
    row.ended_at = snapshot.ended_at
    row.paused_until = snapshot.paused_until
    row.started_at = snapshot.start_date or row.started_at
    # A subscription's customer never changes in Stripe; older rows learn it here.
    row.stripe_customer_id = snapshot.customer_id or row.stripe_customer_id
    if row.supporter_id is None:
        supporter = find_or_create_supporter(
            session, email=None, stripe_customer_id=snapshot.customer_id
        )
        row.supporter_id = supporter.id if supporter else None
    row.stripe_updated_at = event_created
    next_change.forget_if_applied(row)
    session.flush()
    record_mrr(session, row, event_created)
    if _webhook_state(row) != before:
        canceled = row.status is SubscriptionStatus.CANCELED
        events.subscription_event(
            session, "subscription.canceled" if canceled else "subscription.updated", row
        )
    return row


def _webhook_state(row: Subscription) -> tuple[object, ...]:
    """What a CRM sees of a subscription: a change here is a `subscription.updated` event."""
    return (
        row.status,
        row.amount_cents,
        row.fee_cents,
        row.interval,
        row.current_period_end,
        row.cancel_at_period_end,
        row.canceled_at,
        row.ended_at,
        row.paused_until,
        row.supporter_id,
    )
