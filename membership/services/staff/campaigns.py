"""Campaigns as staff run them: saving one (audited) and each campaign's report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from membership.models import Campaign, StaffMember
from membership.services.campaigns import (
    CampaignChange,
    CampaignProgress,
    all_campaigns,
    campaign_progress,
    save_campaign,
)
from membership.services.reports.attribution import FunnelRow, funnel
from membership.services.staff import audit


def save_as_staff(
    session: Session, actor: StaffMember, change: CampaignChange, *, campaign: Campaign | None
) -> Campaign:
    saved = save_campaign(session, change, campaign=campaign)
    audit.record(
        session,
        actor,
        "campaign.created" if campaign is None else "campaign.updated",
        target_type="campaign",
        target_id=saved.id,
        details={
            "slug": saved.slug,
            "starts_at": saved.starts_at.isoformat(),
            "ends_at": saved.ends_at.isoformat(),
            "goal_cents": saved.goal_cents,
            "goal_supporters": saved.goal_supporters,
        },
    )
    return saved


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    progress: CampaignProgress
    running: bool
    # Conversion by variant (each variant belongs to one placement) over the campaign's days.
    variants: list[FunnelRow]


def campaign_reports(session: Session, zone: ZoneInfo, now: datetime) -> list[CampaignReport]:
    reports = []
    for campaign in all_campaigns(session):
        first = campaign.starts_at.astimezone(zone).date()
        last = (min(campaign.ends_at, now) - timedelta(microseconds=1)).astimezone(zone).date()
        rows = funnel(session, "variant", first, max(first, last), zone, limit=None)
        reports.append(
            CampaignReport(
                campaign=campaign,
                progress=campaign_progress(session, campaign, now),
                running=campaign.starts_at <= now < campaign.ends_at,
                variants=[r for r in rows if r.key is not None],
            )
        )
    return reports
