"""Stripe webhook events: stored once in the ledger, applied once, in one transaction each."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import IntentStatus, StripeEvent, utcnow
from membership.payments.gateway import StripeGateway
from membership.services import donations, privacy
from membership.services.sql import insert_or_ignore

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass(frozen=True)
class EventContext:
    gateway: StripeGateway
    config: Config
    event_created: datetime
    now: datetime


Handler = Callable[[Session, Obj, EventContext], None]


def _checkout_completed(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.record_checkout_completed(session, obj, config=ctx.config, now=ctx.event_created)


def _checkout_failed(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.mark_checkout_failed(session, obj, IntentStatus.FAILED)


def _checkout_expired(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.mark_checkout_failed(session, obj, IntentStatus.EXPIRED)


def _invoice_paid(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.record_invoice_paid(
        session,
        obj,
        gateway=ctx.gateway,
        config=ctx.config,
        event_created=ctx.event_created,
        now=ctx.now,
    )


def _invoice_payment_failed(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.record_invoice_payment_failed(
        session, obj, gateway=ctx.gateway, config=ctx.config, now=ctx.now
    )


def _subscription_changed(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.refresh_subscription(
        session, str(obj["id"]), gateway=ctx.gateway, config=ctx.config, now=ctx.now
    )


def _customer_updated(session: Session, obj: Obj, ctx: EventContext) -> None:
    privacy.scrub_events_of_blanked_customer(session, obj)


def _charge_refunded(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.apply_refund(session, obj, refunded_at=ctx.event_created)


def _dispute_created(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.apply_dispute(session, obj, config=ctx.config, closed=False)


def _dispute_closed(session: Session, obj: Obj, ctx: EventContext) -> None:
    donations.apply_dispute(session, obj, config=ctx.config, closed=True)


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "checkout.session.async_payment_failed": _checkout_failed,
    "checkout.session.expired": _checkout_expired,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_payment_failed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "customer.subscription.paused": _subscription_changed,
    "customer.subscription.resumed": _subscription_changed,
    "customer.updated": _customer_updated,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"  # stored; we have no handler for this type
    DUPLICATE = "duplicate"  # already applied: nothing done


def receive_event(
    session: Session, event: Obj, *, gateway: StripeGateway, config: Config
) -> Outcome:
    """Store the event in the ledger and apply it, unless it was applied before.

    The caller commits once. Two deliveries of one event at the same moment: the second insert
    waits on the first's unique key, then finds it applied and does nothing.
    """
    event_id = str(event["id"])
    created = datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC)
    now = utcnow()
    # Stored as processed right away: if the handler fails, the transaction (and this row) rolls
    # back, and record_event_error keeps the event as unprocessed instead.
    inserted = insert_or_ignore(
        session,
        StripeEvent,
        {
            "id": event_id,
            "type": str(event.get("type", "")),
            "created": created,
            "payload": event,
            "received_at": now,
            "processed_at": now,
        },
        ["id"],
    )
    retrying = inserted is None
    if retrying:
        stored = session.scalar(
            select(StripeEvent).where(StripeEvent.id == event_id).with_for_update()
        )
        if stored is None or stored.processed_at is not None:
            return Outcome.DUPLICATE
        # Stored by an earlier delivery whose handler failed: try again now.
    handler = HANDLERS.get(str(event.get("type", "")))
    obj = ((event.get("data") or {}).get("object")) or {}
    if handler is not None:
        handler(session, obj, EventContext(gateway, config, created, now))
    session.execute(
        update(StripeEvent).where(StripeEvent.id == event_id).values(processed_at=now, error=None)
    )
    return Outcome.APPLIED if handler is not None else Outcome.IGNORED


def record_event_error(session: Session, event: Obj, error: str) -> None:
    """After a failed handler (its transaction rolled back): keep the event and why it failed,
    unprocessed, so a redelivery or `stripe sync` applies it later and staff can see it."""
    event_id = str(event["id"])
    inserted = insert_or_ignore(
        session,
        StripeEvent,
        {
            "id": event_id,
            "type": str(event.get("type", "")),
            "created": datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC),
            "payload": event,
            "received_at": utcnow(),
            "error": error[:2000],
        },
        ["id"],
    )
    if inserted is None:
        session.execute(
            update(StripeEvent)
            .where(StripeEvent.id == event_id, StripeEvent.processed_at.is_(None))
            .values(error=error[:2000])
        )
