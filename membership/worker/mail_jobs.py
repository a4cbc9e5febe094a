"""The periodic jobs of issue 15: lifecycle email (daily) and scheduled newsletter issues (every
minute)."""

from __future__ import annotations

from datetime import timedelta

from membership.services.lifecycle.run import card_expiry_from, run
from membership.services.newsletter.schedule import send_scheduled_job
from membership.worker.registry import JobContext, periodic_job


@periodic_job("lifecycle_email", every=timedelta(days=1))
def lifecycle_email(ctx: JobContext) -> str:
    """Daily, not more often: the card-expiring kind asks Stripe about each live recurring gift
    in the first week of a month."""
    summary = run(
        ctx.session, ctx.now, config=ctx.config, card_expiry=card_expiry_from(ctx.gateway)
    )
    return ", ".join(f"{kind}: {count}" for kind, count in summary.items()) + " queued"


@periodic_job("newsletter_scheduled", every=timedelta(minutes=1), lease=timedelta(minutes=30))
def newsletter_scheduled(ctx: JobContext) -> str:
    """Commits in steps (the claim, then each batch; see `send_scheduled_job`): a send of a large
    list must not be one transaction."""
    reports = send_scheduled_job(ctx.session, ctx.config, now=ctx.now, commit=ctx.commit)
    return f"{len(reports)} scheduled issue(s) sent, {sum(r.queued for r in reports)} emails queued"
