"""The appeal block of an issue, for readers who are not current supporters: the running
campaign's copy and amounts (the banner's control variant), or the default amounts; every link
carries `source=newsletter-<issue id>`, so a gift made from it is counted under the issue."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.newsletter import Appeal
from membership.formatting import format_money
from membership.models import Donation, DonationIntent, DonationStatus, NewsletterIssue, utcnow
from membership.services.banner import control_variant

_SOURCE = re.compile(r"^newsletter-([0-9]{1,12})$")


def issue_source(issue_id: int) -> str:
    return f"newsletter-{issue_id}"


def issue_of_source(session: Session, source: str | None) -> int | None:
    """The issue a `source=newsletter-<id>` names, when that issue exists."""
    match = _SOURCE.match(source or "")
    if match is None:
        return None
    issue_id = int(match.group(1))
    return issue_id if session.get(NewsletterIssue, issue_id) is not None else None


def issue_appeal(
    session: Session, config: Config, issue_id: int, now: datetime | None = None
) -> Appeal:
    """The running campaign's words and amounts (through the control variant), else ours."""
    campaign = control_variant(session, now or utcnow())
    amounts = (campaign.amounts_for("once") if campaign else []) or list(config.default_amounts)
    base = f"{config.base_url.rstrip('/')}/support"
    source = issue_source(issue_id)
    links = tuple(
        (f"Give {format_money(cents, config.currency)}", f"{base}?amount={cents}&source={source}")
        for cents in amounts[:4]
    ) + (("Another amount, or monthly", f"{base}?source={source}"),)
    if campaign is not None:
        return Appeal(campaign.headline, campaign.body, links)
    return Appeal(
        f"{config.publication_name} is funded by its readers",
        "If this issue was worth something to you, support the reporting behind it.",
        links,
    )


def issue_gifts(session: Session, issue_id: int) -> tuple[int, int]:
    """(payments, total in minor units) attributed to the issue's appeal: every payment of a
    gift started from one of its links, renewals of a monthly gift included, failed payments not
    (as the reports' newsletter issues count them)."""
    payments, total = session.execute(
        select(
            func.count(Donation.id),
            func.coalesce(func.sum(Donation.amount_cents + Donation.fee_cents), 0),
        )
        .join(DonationIntent, DonationIntent.id == Donation.intent_id)
        .where(
            DonationIntent.source_issue_id == issue_id,
            Donation.status != DonationStatus.FAILED,
        )
    ).one()
    return int(payments), int(total)
