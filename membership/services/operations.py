"""Operational figures for monitoring (`/metrics`): queues, failures, sync freshness, today's gifts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from membership.models import Donation, DonationStatus, EmailMessage, EmailStatus, StripeEvent
from membership.services.job_leases import last_success
from membership.services.reports.periods import local_midnight

STRIPE_SYNC_JOB = "stripe_sync"


@dataclass(frozen=True)
class OperationalFigures:
    outbox_waiting: int  # queued or being sent
    outbox_oldest_age_seconds: float  # 0 when nothing waits
    emails_failed: int
    webhook_events_failed: int  # stored, not applied, with an error
    webhook_events_unprocessed: int  # stored, not applied
    seconds_since_stripe_sync: float | None  # None: never synced successfully
    donations_today: int  # paid since local midnight, failed ones excluded
    donations_today_cents: int  # amount + covered fee


def operational_figures(session: Session, *, now: datetime, zone: ZoneInfo) -> OperationalFigures:
    waiting = EmailMessage.status.in_([EmailStatus.QUEUED, EmailStatus.SENDING])
    outbox_waiting, oldest = session.execute(
        select(func.count(), func.min(EmailMessage.created_at)).where(waiting)
    ).one()
    emails_failed = session.scalar(
        select(func.count()).where(EmailMessage.status == EmailStatus.FAILED)
    )
    unprocessed = StripeEvent.processed_at.is_(None)
    events_unprocessed, events_failed = session.execute(
        select(func.count(), func.count(StripeEvent.error)).where(unprocessed)
    ).one()
    synced = last_success(session, STRIPE_SYNC_JOB)
    midnight = local_midnight(now.astimezone(zone).date(), zone)
    donations, cents = session.execute(
        select(
            func.count(), func.coalesce(func.sum(Donation.amount_cents + Donation.fee_cents), 0)
        ).where(Donation.paid_at >= midnight, Donation.status != DonationStatus.FAILED)
    ).one()
    return OperationalFigures(
        outbox_waiting=int(outbox_waiting),
        outbox_oldest_age_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        emails_failed=int(emails_failed or 0),
        webhook_events_failed=int(events_failed),
        webhook_events_unprocessed=int(events_unprocessed),
        seconds_since_stripe_sync=(now - synced).total_seconds() if synced else None,
        donations_today=int(donations),
        donations_today_cents=int(cents),
    )
