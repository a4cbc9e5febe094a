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
from membership.payments.disputes import Dispute
from membership.payments.events import Event
from membership.payments.gateway import PaymentProviderError, StripeGateway, WebhookSignatureError
from membership.payments.objects import (
    Charge,
    CheckoutSession,
    Customer,
    Invoice,
    Refund,
    StripeDataError,
    SubscriptionSnapshot,
)
from membership.services import privacy
from membership.services.errors import ServiceError
from membership.services.ledger import EventNotReady
from membership.services.ledger.charges import apply_dispute, apply_refunds
from membership.services.ledger.checkout_sessions import (
    mark_checkout_failed,
    record_checkout_completed,
)
from membership.services.ledger.invoices import (
    record_invoice_paid,
    record_invoice_payment_action_required,
    record_invoice_payment_failed,
)
from membership.services.ledger.subscriptions import refresh_subscription
from membership.services.sql import dialect_insert

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000

# What may go wrong while applying an event that another delivery may get right: the object it
# refers to is not recorded yet, Stripe or the database failed. (An object we cannot read will
# never read better: that event is kept with its error and acknowledged.)
NOT_APPLIED = (EventNotReady, PaymentProviderError, SQLAlchemyError)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"  # stored; we have no handler for this type
    DUPLICATE = "duplicate"  # already applied: nothing done
    FAILED = "failed"  # stored unprocessed with its error; Stripe (or sync) delivers it again
    UNUSABLE = "unusable"  # stored with its error and acknowledged: retrying cannot help


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

    def read(self, event: Event) -> T:
        """The event's object, typed; `StripeDataError` if it is not one we can read."""
        return self.parse(event.data_object)


def _checkout_completed(session: Session, checkout: CheckoutSession, ctx: EventContext) -> None:
    record_checkout_completed(
        session, checkout, gateway=ctx.gateway, config=ctx.config, now=ctx.event_created
    )


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


def _invoice_action_required(session: Session, invoice: Invoice, ctx: EventContext) -> None:
    record_invoice_payment_action_required(
        session, invoice, gateway=ctx.gateway, config=ctx.config, now=ctx.now
    )


def _reread_refunds(
    session: Session, charge_id: str | None, payment_intent_id: str | None, ctx: EventContext
) -> None:
    if charge_id is None:
        log.warning("a refund event without its charge (payment %s): ignored", payment_intent_id)
        return
    # The event's own copy may be stale, and `charge.refunds` is there only when expanded: the
    # charge's refunds as Stripe lists them now are what the refunded total is made of.
    apply_refunds(
        session,
        charge_id=charge_id,
        payment_intent_id=payment_intent_id,
        refunds=ctx.gateway.list_refunds(charge_id),
        config=ctx.config,
        now=ctx.now,
    )


def _charge_refunded(session: Session, charge: Charge, ctx: EventContext) -> None:
    _reread_refunds(session, charge.id, charge.payment_intent_id, ctx)


def _refund_changed(session: Session, refund: Refund, ctx: EventContext) -> None:
    _reread_refunds(session, refund.charge_id, refund.payment_intent_id, ctx)


def _dispute_changed(session: Session, dispute: Dispute, ctx: EventContext) -> None:
    apply_dispute(session, dispute, config=ctx.config, now=ctx.now)


_CHECKOUT_COMPLETED = Route(CheckoutSession.parse, _checkout_completed)
_SUBSCRIPTION_CHANGED = Route(SubscriptionSnapshot.parse, _subscription_changed)
_REFUND_CHANGED = Route(Refund.parse, _refund_changed)
_DISPUTE_CHANGED = Route(Dispute.parse, _dispute_changed)

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
    "invoice.payment_action_required": Route(Invoice.parse, _invoice_action_required),
    "charge.refunded": Route(Charge.parse, _charge_refunded),
    "charge.refund.updated": _REFUND_CHANGED,
    "refund.created": _REFUND_CHANGED,
    "refund.updated": _REFUND_CHANGED,
    "refund.failed": _REFUND_CHANGED,
    "charge.dispute.created": _DISPUTE_CHANGED,
    "charge.dispute.updated": _DISPUTE_CHANGED,
    "charge.dispute.closed": _DISPUTE_CHANGED,
    "charge.dispute.funds_withdrawn": _DISPUTE_CHANGED,
    "charge.dispute.funds_reinstated": _DISPUTE_CHANGED,
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
    # Core, RETURNING only the id: nothing reads the stored payload back as an ORM object.
    inserted = session.execute(
        _insert_event(session),
        {
            "id": event.id,
            "type": event.type,
            "created": event.created,
            "payload": event.payload,
            "received_at": now,
            "processed_at": now,
        },
    ).scalar()
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
            obj = route.read(event)
        except StripeDataError as error:
            # Another delivery brings the same bytes: acknowledge it, keep it for staff.
            log.error("Stripe event %s (%s) cannot be applied: %s", event.id, event.type, error)
            _mark(session, event.id, processed_at=now, error=f"never applicable: {error}")
            return Outcome.UNUSABLE
        try:
            with session.begin_nested():
                route.handle(session, obj, EventContext(gateway, config, event.created, now))
        except Exception as error:
            if isinstance(error, NOT_APPLIED):
                log.warning("Stripe event %s (%s) not applied: %s", event.id, event.type, error)
            else:  # a fault of ours: Stripe retries it once it is fixed
                log.exception("Stripe event %s (%s) failed", event.id, event.type)
            _mark(session, event.id, processed_at=None, error=f"{type(error).__name__}: {error}")
            return Outcome.FAILED
    if retrying:
        _mark(session, event.id, processed_at=now, error=None)
    return Outcome.APPLIED if route is not None else Outcome.IGNORED


def _insert_event(session: Session) -> Any:
    table = StripeEvent.__table__
    return (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table.c.id)
    )


def _mark(
    session: Session, event_id: str, *, processed_at: datetime | None, error: str | None
) -> None:
    if error:
        # The request id leads from the stored error to the log lines of the delivery.
        error = f"[request {current_request_id() or '-'}] {error}"[:MAX_ERROR_LENGTH]
    session.execute(
        update(StripeEvent)
        .where(StripeEvent.id == event_id)
        .values(processed_at=processed_at, error=error)
    )
