"""The periodic jobs the service has always needed: reminders, sign-in link purge, Stripe sync."""

from __future__ import annotations

from datetime import timedelta

from membership.services.reminders import queue_renewal_reminders
from membership.services.sign_in import purge_sign_in_links
from membership.services.stripe_sync import sync_from_stripe
from membership.worker.registry import JobContext, periodic_job

# Lost webhooks older than this are assumed found by an earlier hourly run.
STRIPE_SYNC_WINDOW = timedelta(days=3)


class StripeSyncIncomplete(RuntimeError):
    """Some events could not be applied; the run is retried (they are stored for staff too)."""


@periodic_job("renewal_reminders", every=timedelta(days=1))
def renewal_reminders(ctx: JobContext) -> str:
    queued = queue_renewal_reminders(ctx.session, config=ctx.config, now=ctx.now)
    return f"{queued} renewal reminder(s) queued"


@periodic_job("purge_sign_in_links", every=timedelta(days=1))
def purge_links(ctx: JobContext) -> str:
    purged = purge_sign_in_links(ctx.session, config=ctx.config, now=ctx.now)
    return f"{purged} expired sign-in link record(s) cleaned"


@periodic_job("stripe_sync", every=timedelta(hours=1), lease=timedelta(minutes=30))
def stripe_sync(ctx: JobContext) -> str:
    """Commits after each event (see `sync_from_stripe`): each is its own unit of money."""
    report = sync_from_stripe(
        ctx.session,
        ctx.gateway,
        ctx.config,
        since=ctx.now - STRIPE_SYNC_WINDOW,
        now=ctx.now,
        commit=ctx.commit,
        rollback=ctx.rollback,
    )
    summary = (
        f"{report.events_seen} events seen, {report.events_applied} applied, "
        f"{report.events_failed} failed; reconciled {report.donations_reconciled} donations, "
        f"{report.subscriptions_reconciled} subscriptions"
    )
    if report.events_failed:
        raise StripeSyncIncomplete(f"{summary}: " + "; ".join(report.errors[:5]))
    return summary
