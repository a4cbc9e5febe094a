"""Campaigns: which one runs now, its progress toward the goal (confirmed gifts only), saving one.

A campaign counts every confirmed gift paid while it runs, whatever page it came from: while a
campaign runs, every appeal is the campaign's, so the drive is the whole of the period's giving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from membership.models import Campaign, Donation, DonationStatus, Frequency, Subscription
from membership.services.appeal_copy import copy_promise_problem
from membership.services.errors import ServiceError

# Addresses under /support/ that pages already use: a campaign cannot take them.
RESERVED_SLUGS = frozenset({"thanks", "cancelled", "remind"})


class CampaignError(ServiceError):
    """A campaign could not be saved; the message says why."""


def running_campaign(session: Session, now: datetime) -> Campaign | None:
    """The campaign running at `now`; of overlapping ones, the one that started last."""
    return session.scalar(
        select(Campaign)
        .where(Campaign.starts_at <= now, Campaign.ends_at > now)
        .order_by(Campaign.starts_at.desc(), Campaign.id.desc())
        .limit(1)
    )


def campaign_by_slug(session: Session, slug: str) -> Campaign | None:
    if not slug or len(slug) > 80:
        return None
    return session.scalar(select(Campaign).where(Campaign.slug == slug))


def all_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.starts_at.desc())))


@dataclass(frozen=True)
class CampaignProgress:
    """Where a campaign stands: from verified webhooks' rows only, never from intents."""

    raised_cents: int
    gifts: int
    new_supporters: int
    new_recurring: int
    goal_cents: int | None
    goal_supporters: int | None

    @property
    def percent(self) -> int:
        """Of the money goal (else the supporters goal), 0 to 100, rounded down: a bar shows
        100% only when the goal is met."""
        if self.goal_cents:
            return min(100, self.raised_cents * 100 // self.goal_cents)
        if self.goal_supporters:
            return min(100, self.new_supporters * 100 // self.goal_supporters)
        return 0


def campaign_progress(session: Session, campaign: Campaign, now: datetime) -> CampaignProgress:
    starts, ends = campaign.starts_at, min(campaign.ends_at, now)
    in_range = (Donation.paid_at >= starts, Donation.paid_at < ends)
    counted = Donation.status != DonationStatus.FAILED
    raised, gifts = session.execute(
        select(
            func.coalesce(
                func.sum(Donation.amount_cents + Donation.fee_cents - Donation.refunded_cents), 0
            ),
            func.count(),
        ).where(*in_range, counted)
    ).one()
    first_gift = (
        select(Donation.supporter_id, func.min(Donation.paid_at).label("first_paid"))
        .where(Donation.supporter_id.is_not(None), counted)
        .group_by(Donation.supporter_id)
        .subquery()
    )
    new_supporters = session.scalar(
        select(func.count()).where(
            first_gift.c.first_paid >= starts, first_gift.c.first_paid < ends
        )
    )
    new_recurring = session.scalar(
        select(func.count())
        .select_from(Subscription)
        .where(Subscription.started_at >= starts, Subscription.started_at < ends)
    )
    return CampaignProgress(
        raised_cents=int(raised),
        gifts=int(gifts),
        new_supporters=int(new_supporters or 0),
        new_recurring=int(new_recurring or 0),
        goal_cents=campaign.goal_cents,
        goal_supporters=campaign.goal_supporters,
    )


@dataclass(frozen=True)
class CampaignChange:
    slug: str
    name: str
    headline: str
    body: str
    amounts: dict[str, list[int]]
    default_frequency: Frequency
    starts_at: datetime
    ends_at: datetime
    goal_cents: int | None = None
    goal_supporters: int | None = None
    matching_text: str = ""
    matching_cap_cents: int | None = None


def save_campaign(
    session: Session, change: CampaignChange, *, campaign: Campaign | None = None
) -> Campaign:
    """Create (`campaign` None) or change a campaign; refuses what would mislead readers."""
    if change.slug in RESERVED_SLUGS:
        raise CampaignError(f"/support/{change.slug} is taken by another page: choose another.")
    if change.ends_at <= change.starts_at:
        raise CampaignError("The campaign must end after it starts.")
    if not change.goal_cents and not change.goal_supporters:
        raise CampaignError("Give a goal: an amount, a number of new supporters, or both.")
    if change.matching_text and not change.matching_cap_cents:
        raise CampaignError("A matching-gift line needs its cap.")
    problem = copy_promise_problem(
        f"{change.headline} {change.body}", change.amounts, change.default_frequency
    )
    if problem:
        raise CampaignError(problem)
    clash = campaign_by_slug(session, change.slug)
    if clash is not None and clash is not campaign:
        raise CampaignError(f"Another campaign already uses the address /support/{change.slug}.")
    if campaign is None:
        campaign = Campaign(slug=change.slug)
        session.add(campaign)
    for name, value in change.__dict__.items():
        setattr(campaign, name, value)
    campaign.amounts = {k: list(v) for k, v in change.amounts.items()}
    session.flush()
    return campaign
