"""Stripe events: verified, stored once in our event ledger, and applied once through HANDLERS.

`receive` serves the webhook endpoint; `apply_event` is the same path for `stripe sync`. Both
leave the transaction to the caller, who commits once whatever the outcome: a failed handler is
rolled back to a savepoint and the event stays stored, unprocessed, with the reason.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from membership.config import Config
from membership.logs import current_request_id
from membership.models import IntentStatus, StripeEvent
from membership.payments.events import Event
from membership.payments.gateway import PaymentProviderError, StripeGateway, WebhookSignatureError
from membership.payments.objects import (
    Charge,
    CheckoutSession,
    Customer,
    Dispute,
    Invoice,
    SubscriptionSnapshot,
)
from membership.services import privacy
from membership.services.errors import ServiceError
from membership.services.ledger import EventNotReady
from membership.services.ledger.charges import apply_dispute, apply_refund
from membership.services.ledger.checkout_sessions import (
    mark_checkout_failed,
    record_checkout_completed,
)
from membership.services.ledger.invoices import record_invoice_paid, record_invoice_payment_failed
from membership.services.ledger.subscriptions import refresh_subscription
from membership.services.sql import insert_or_ignore

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000

# What may go wrong while applying an event that another delivery may get right: the object it
# refers to is not recorded yet, Stripe or the database failed, or the object was unreadable.
NOT_APPLIED = (EventNotReady, PaymentProviderError, SQLAlchemyError, LookupError, ValueError)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"  # stored; we have no handler for this type
    DUPLICATE = "duplicate"  # already applied: nothing done
    FAILED = "failed"  # stored unprocessed with its error; Stripe (or sync) delivers it again


class WebhookRejected(ServiceError):
    """A payload whose signature or timestamp does not verify: nothing was stored."""


@dataclass(frozen=True)
class EventContext:
    gateway: StripeGateway
    config: Config
    event_created: datetime
    now: datetime


T = TypeVar("T")


@dataclass(frozen=True)
class Route(Generic[T]):
    """How one event type is applied: its object's parser and the handler that takes it."""

    parse: Callable[[object], T]
    handle: Callable[[Session, T, EventContext], None]

    def __call__(self, session: Session, event: Event, ctx: EventContext) -> None:
        self.handle(session, self.parse(event.data_object), ctx)


def _checkout_completed(session: Session, checkout: CheckoutSession, ctx: EventContext) -> None:
    record_checkout_completed(session, checkout, config=ctx.config, now=ctx.event_created)


def _checkout_failed(session: Session, checkout: CheckoutSession, ctx: EventContext) -> None:
    mark_checkout_failed(session, checkout, IntentStatus.FAILED)


def _checkout_expired(session: Session, checkout: CheckoutSession, ctx: EventContext) -> None:
    mark_checkout_failed(session, checkout, IntentStatus.EXPIRED)


def _invoice_paid(session: Session, invoice: Invoice, ctx: EventContext) -> None:
    record_invoice_paid(
        session,
        invoice,
        gateway=ctx.gateway,
        config=ctx.config,
        event_created=ctx.event_created,
        now=ctx.now,
    )


def _invoice_payment_failed(session: Session, invoice: Invoice, ctx: EventContext) -> None:
    record_invoice_payment_failed(
        session, invoice, gateway=ctx.gateway, config=ctx.config, now=ctx.now
    )


def _subscription_changed(
    session: Session, snapshot: SubscriptionSnapshot, ctx: EventContext
) -> None:
    # The event's own snapshot may be stale: the handler reads the newest from Stripe.
    refresh_subscription(session, snapshot.id, gateway=ctx.gateway, config=ctx.config, now=ctx.now)


def _customer_updated(session: Session, customer: Customer, ctx: EventContext) -> None:
    privacy.scrub_events_of_blanked_customer(session, customer)


def _charge_refunded(session: Session, charge: Charge, ctx: EventContext) -> None:
    apply_refund(session, charge, refunded_at=ctx.event_created)


def _dispute_created(session: Session, dispute: Dispute, ctx: EventContext) -> None:
    apply_dispute(session, dispute, config=ctx.config, closed=False, now=ctx.now)


def _dispute_closed(session: Session, dispute: Dispute, ctx: EventContext) -> None:
    apply_dispute(session, dispute, config=ctx.config, closed=True, now=ctx.now)


_CHECKOUT_COMPLETED = Route(CheckoutSession.parse, _checkout_completed)
_SUBSCRIPTION_CHANGED = Route(SubscriptionSnapshot.parse, _subscription_changed)

HANDLERS: dict[str, Route[Any]] = {
    "checkout.session.completed": _CHECKOUT_COMPLETED,
    "checkout.session.async_payment_succeeded": _CHECKOUT_COMPLETED,
    "checkout.session.async_payment_failed": Route(CheckoutSession.parse, _checkout_failed),
    "checkout.session.expired": Route(CheckoutSession.parse, _checkout_expired),
    "invoice.paid": Route(Invoice.parse, _invoice_paid),
    "invoice.payment_failed": Route(Invoice.parse, _invoice_payment_failed),
    "customer.subscription.created": _SUBSCRIPTION_CHANGED,
    "customer.subscription.updated": _SUBSCRIPTION_CHANGED,
    "customer.subscription.deleted": _SUBSCRIPTION_CHANGED,
    "customer.subscription.paused": _SUBSCRIPTION_CHANGED,
    "customer.subscription.resumed": _SUBSCRIPTION_CHANGED,
    "customer.updated": Route(Customer.parse, _customer_updated),
    "charge.refunded": Route(Charge.parse, _charge_refunded),
    "charge.dispute.created": Route(Dispute.parse, _dispute_created),
    "charge.dispute.closed": Route(Dispute.parse, _dispute_closed),
}


def receive(
    session: Session,
    gateway: StripeGateway,
    payload: bytes,
    signature_header: str,
    config: Config,
    *,
    now: datetime,
) -> Outcome:
    """A webhook delivery: verify the raw payload, then store and apply its event.

    Raises `WebhookRejected` (nothing stored) when the signature does not verify. The caller
    commits once, whatever the outcome: FAILED has stored the event's error for staff.
    """
    try:
        event = gateway.verify_webhook(payload, signature_header)
    except WebhookSignatureError as error:
        raise WebhookRejected("invalid signature", detail=str(error)) from error
    return apply_event(session, event, gateway=gateway, config=config, now=now)


def apply_event(
    session: Session, event: Event, *, gateway: StripeGateway, config: Config, now: datetime
) -> Outcome:
    """Store the event in the ledger and apply it, unless it was applied before.

    Two deliveries of one event at the same moment: the second insert waits on the first's
    unique key, then finds it applied and does nothing.
    """
    # Stored as processed right away, which saves an update on the usual path; a failed handler
    # marks it unprocessed again below.
    inserted = insert_or_ignore(
        session,
        StripeEvent,
        {
            "id": event.id,
            "type": event.type,
            "created": event.created,
            "payload": event.payload,
            "received_at": now,
            "processed_at": now,
        },
        ["id"],
    )
    retrying = inserted is None
    if retrying:
        stored = session.scalar(
            select(StripeEvent).where(StripeEvent.id == event.id).with_for_update()
        )
        if stored is None or stored.processed_at is not None:
            return Outcome.DUPLICATE
        # Stored by an earlier delivery whose handler failed: try again now.
    route = HANDLERS.get(event.type)
    if route is not None:
        try:
            with session.begin_nested():
                route(session, event, EventContext(gateway, config, event.created, now))
        except NOT_APPLIED as error:
            log.warning("Stripe event %s (%s) not applied: %s", event.id, event.type, error)
            # The request id leads from the stored error to the log lines of the delivery.
            request = f"[request {current_request_id() or '-'}] "
            _mark(
                session,
                event.id,
                processed_at=None,
                error=f"{request}{type(error).__name__}: {error}",
            )
            return Outcome.FAILED
    if retrying:
        _mark(session, event.id, processed_at=now, error=None)
    return Outcome.APPLIED if route is not None else Outcome.IGNORED


def _mark(
    session: Session, event_id: str, *, processed_at: datetime | None, error: str | None
) -> None:
    session.execute(
        update(StripeEvent)
        .where(StripeEvent.id == event_id)
        .values(processed_at=processed_at, error=error[:MAX_ERROR_LENGTH] if error else None)
    )
