"""`stripe sync`: recover missed webhooks from Stripe's events list, then reconcile recent objects.

A job: it commits after each event and each reconciled object, because each is its own unit of
money: one that fails must not undo the others, and a run over days of events must not hold one
transaction (and its row locks) open against the live webhook endpoint.

Every event goes through the webhook's own `apply_event`, so an event already applied is skipped
and a missed one is applied exactly once. Rarely Stripe never creates an event at all, so recent
Checkout Sessions, invoices and subscriptions are compared with our rows as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import Donation, StripeEvent, Subscription
from membership.payments import sync_listings
from membership.payments.gateway import StripeGateway
from membership.services.errors import payment_provider_calls
from membership.services.ledger import EventNotReady
from membership.services.ledger.checkout_sessions import record_checkout_completed
from membership.services.ledger.invoices import record_invoice_paid
from membership.services.ledger.subscriptions import apply_subscription
from membership.services.stripe_webhooks import Outcome, apply_event

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    events_seen: int = 0
    events_applied: int = 0
    events_skipped: int = 0
    events_failed: int = 0
    donations_reconciled: int = 0
    subscriptions_reconciled: int = 0
    errors: list[str] = field(default_factory=list)


def sync_from_stripe(
    session: Session,
    gateway: StripeGateway,
    config: Config,
    *,
    since: datetime,
    now: datetime,
    commit: Callable[[], None],
    rollback: Callable[[], None],
) -> SyncReport:
    """Raises `PaymentUnavailable` when Stripe cannot be listed; what was committed stays."""
    report = SyncReport()
    created_since = int(since.timestamp())
    with payment_provider_calls():
        # Stripe lists newest first; apply in the order things happened, as far as `created`
        # (one-second resolution) tells it. Events that share a second have no order, so an
        # event that was not ready (a refund before its gift) is tried again in another pass,
        # until a pass applies nothing new.
        pending = sorted(
            sync_listings.events(gateway, created_since), key=lambda e: (e.created, e.id)
        )
        report.events_seen = len(pending)
        while pending:
            not_ready = []
            for event in pending:
                try:
                    outcome = apply_event(session, event, gateway=gateway, config=config, now=now)
                    commit()  # a failed event too: its error is stored for staff
                except Exception as error:  # noqa: BLE001 - one bad event must not stop the rest
                    rollback()
                    report.errors.append(f"{event.id} ({event.type}): {error}")
                    continue
                if outcome is Outcome.FAILED:
                    not_ready.append(event)
                elif outcome is Outcome.UNUSABLE:
                    # Kept with its error for staff; it will never apply, so it does not fail
                    # the run.
                    report.errors.append(f"{event.id} ({event.type}): cannot be read, kept")
                elif outcome is Outcome.DUPLICATE:
                    report.events_skipped += 1
                else:
                    report.events_applied += 1
            if len(not_ready) == len(pending):
                break  # no progress: these will not apply in this run
            pending = not_ready
        report.events_failed = len(pending)
        _reconcile(session, gateway, config, report, created_since, now, commit, rollback)
    for event_id, reason in session.execute(
        select(StripeEvent.id, StripeEvent.error).where(StripeEvent.processed_at.is_(None))
    ):
        report.errors.append(f"{event_id}: still not applied ({reason or 'no error recorded'})")
    return report


def _reconcile(
    session: Session,
    gateway: StripeGateway,
    config: Config,
    report: SyncReport,
    created_since: int,
    now: datetime,
    commit: Callable[[], None],
    rollback: Callable[[], None],
) -> None:
    """Paid objects that never produced an event we stored."""
    for checkout in sync_listings.checkout_sessions(gateway, created_since):
        if not checkout.paid_one_off:
            continue
        known = session.scalar(
            select(Donation.id).where(Donation.stripe_checkout_session_id == checkout.id)
        )
        if known is None:
            # Dated by its charge, when it was paid: not by the session's start or by today.
            paid_at = checkout.created or datetime.fromtimestamp(0, tz=UTC)
            if record_checkout_completed(
                session,
                checkout,
                gateway=gateway,
                config=config,
                now=paid_at,
                paid_at_from_charge=True,
            ):
                report.donations_reconciled += 1
            commit()
    for invoice in sync_listings.invoices(gateway, created_since):
        if invoice.status != "paid":
            continue
        known = session.scalar(select(Donation.id).where(Donation.stripe_invoice_id == invoice.id))
        if known is None:
            paid_at = invoice.paid_at or invoice.created or datetime.fromtimestamp(0, tz=UTC)
            try:
                if record_invoice_paid(
                    session, invoice, gateway=gateway, config=config, event_created=paid_at, now=now
                ):
                    report.donations_reconciled += 1
                commit()
            except EventNotReady as error:
                rollback()
                report.errors.append(f"invoice {invoice.id}: {error}")
    for subscription in sync_listings.subscriptions(gateway, created_since):
        row = session.scalar(
            select(Subscription).where(Subscription.stripe_subscription_id == subscription.id)
        )
        # A snapshot fetched now is the newest state there is.
        if row is None or row.status.value != subscription.status:
            apply_subscription(session, subscription, event_created=now, config=config, now=now)
            report.subscriptions_reconciled += 1
            commit()
