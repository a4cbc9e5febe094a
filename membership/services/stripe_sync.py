"""`stripe sync`: recover missed webhooks from Stripe's events list, then reconcile recent objects.

Every event goes through the same `receive_event` as the webhook, so an event already applied is
skipped and a missed one is applied exactly once. Rarely Stripe never creates an event at all, so
recent Checkout Sessions, invoices and subscriptions are compared with our rows as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import Donation, StripeEvent, Subscription, utcnow
from membership.payments.events import Outcome, receive_event
from membership.payments.gateway import StripeGateway
from membership.services import donations

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
    commit: Callable[[], None],
    rollback: Callable[[], None],
) -> SyncReport:
    report = SyncReport()
    created_since = int(since.timestamp())
    # Stripe lists newest first; apply in the order things happened.
    events = sorted(
        gateway.list_events(created_since), key=lambda e: (e.get("created", 0), e["id"])
    )
    for event in events:
        report.events_seen += 1
        try:
            outcome = receive_event(session, event, gateway=gateway, config=config)
            commit()
        except Exception as error:  # noqa: BLE001 - one bad event must not stop the rest
            rollback()
            report.events_failed += 1
            report.errors.append(f"{event['id']} ({event.get('type')}): {error}")
            continue
        if outcome is Outcome.DUPLICATE:
            report.events_skipped += 1
        else:
            report.events_applied += 1

    now = utcnow()
    for checkout in gateway.list_checkout_sessions(created_since):
        if checkout.get("mode") != "payment" or checkout.get("payment_status") != "paid":
            continue
        known = session.scalar(
            select(Donation.id).where(Donation.stripe_checkout_session_id == checkout["id"])
        )
        if known is None:
            if donations.record_checkout_completed(
                session,
                checkout,
                config=config,
                now=datetime.fromtimestamp(int(checkout.get("created") or 0), tz=UTC),
            ):
                report.donations_reconciled += 1
            commit()
    for invoice in gateway.list_invoices(created_since):
        if invoice.get("status") != "paid":
            continue
        known = session.scalar(
            select(Donation.id).where(Donation.stripe_invoice_id == invoice["id"])
        )
        if known is None:
            transitions = invoice.get("status_transitions") or {}
            paid_at = int(transitions.get("paid_at") or invoice.get("created") or 0)
            try:
                if donations.record_invoice_paid(
                    session, invoice, gateway=gateway, config=config,
                    event_created=datetime.fromtimestamp(paid_at, tz=UTC), now=now,
                ):  # fmt: skip
                    report.donations_reconciled += 1
                commit()
            except donations.EventNotReady as error:
                rollback()
                report.errors.append(f"invoice {invoice['id']}: {error}")
    for subscription in gateway.list_subscriptions(created_since):
        row = session.scalar(
            select(Subscription).where(Subscription.stripe_subscription_id == subscription["id"])
        )
        # A snapshot fetched now is the newest state there is.
        if row is None or row.status.value != subscription.get("status"):
            donations.apply_subscription(
                session, subscription, event_created=now, config=config, now=now
            )
            report.subscriptions_reconciled += 1
            commit()
    unprocessed = session.scalars(
        select(StripeEvent.id).where(StripeEvent.processed_at.is_(None))
    ).all()
    for event_id in unprocessed:
        report.errors.append(f"{event_id}: still not applied (see stripe_event.error)")
    return report
