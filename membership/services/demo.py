"""Demo content: original articles, banner copy, staff accounts and a year of giving, added idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from membership.models import Frequency, utcnow
from membership.services.articles import import_articles
from membership.services.banner import save_variant
from membership.services.campaigns import CampaignChange, campaign_by_slug, save_campaign
from membership.services.history import HistorySpec, generated_history_exists, insert_history
from membership.services.staff.accounts import create_or_update_staff

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
DEMO_ADMIN_EMAIL = "admin@observatory.example"

# A monthly ask is smaller than a one-off one; an annual one larger.
DEMO_AMOUNTS = {
    "once": [100, 500, 1000],
    "monthly": [300, 500, 1000],
    "annual": [2500, 5000, 10000],
}

# The "personal" variant opens on monthly and promises "as little as $1": its monthly amounts
# start at $1 (staff-saved copy is checked against the first view's amounts the same way).
PERSONAL_AMOUNTS = {**DEMO_AMOUNTS, "monthly": [100, 300, 500]}

DEMO_VARIANTS = [
    {
        "name": "plain",
        "headline": "The Observatory is funded by its readers, and no one else",
        "body": (
            "We take no money from any party, government or interest group. Our reporting is "
            "paid for by readers alone, so we answer only to you. If you value what we do, "
            "please support us with as little as $1. It takes about a minute."
        ),
        "amounts": DEMO_AMOUNTS,
        "default_frequency": Frequency.ONCE,
        "weight": 1,
    },
    {
        "name": "personal",
        "headline": "Before you go: this story was made possible by readers like you",
        "body": (
            "Every article here exists because someone chose to chip in. No party, government "
            "or interest group pays our way, only readers who want to understand the world. "
            "Will you join them? As little as $1 helps, and it takes a minute."
        ),
        "amounts": PERSONAL_AMOUNTS,
        "default_frequency": Frequency.MONTHLY,
        "weight": 1,
    },
]  # fmt: skip


DEMO_CAMPAIGN_SLUG = "spring-drive"
DEMO_CAMPAIGN_DAYS = 30


def _demo_campaign(now: datetime) -> CampaignChange:
    return CampaignChange(
        slug=DEMO_CAMPAIGN_SLUG,
        name="Spring drive",
        headline="Help us raise $500 for our spring reporting trip",
        body=(
            "This spring we want to send a reporter up the Ismer river to follow the water "
            "pact from source to sea. Every gift counts toward the goal, from $1."
        ),
        amounts=DEMO_AMOUNTS,
        default_frequency=Frequency.ONCE,
        # From the seed on: the generated history before it does not count toward the goal.
        starts_at=now,
        ends_at=now + timedelta(days=DEMO_CAMPAIGN_DAYS),
        goal_cents=50000,
    )


def _seed_campaign(session: Session, now: datetime) -> None:
    """One running campaign; a second seed leaves it alone unless it has ended."""
    campaign = campaign_by_slug(session, DEMO_CAMPAIGN_SLUG)
    if campaign is None or campaign.ends_at <= now:
        save_campaign(session, _demo_campaign(now), campaign=campaign)


@dataclass(frozen=True)
class SeedSummary:
    articles: int
    variants: int
    admin_email: str
    donations_added: int = 0
    subscriptions_added: int = 0


DEMO_STAFF = [
    ("editor@observatory.example", "editor", "Demo Editor"),
    ("finance@observatory.example", "finance", "Demo Finance"),
]


def seed_demo(
    session: Session, *, now: datetime | None = None, history: bool = True
) -> SeedSummary:
    """Articles, banner variants, staff and, once, a year of giving ending `now`: a second run
    finds the generated history (by its receipt numbers) and adds nothing."""
    articles = import_articles(session, DEMO_DIR / "articles")
    _seed_campaign(session, now or utcnow())
    variants = [save_variant(session, **spec) for spec in DEMO_VARIANTS]  # type: ignore[arg-type]
    create_or_update_staff(session, email=DEMO_ADMIN_EMAIL, role="admin", name="Demo Admin")
    for email, role, name in DEMO_STAFF:
        create_or_update_staff(session, email=email, role=role, name=name)
    donations = subscriptions = 0
    if history and not generated_history_exists(session):
        counts = insert_history(
            session,
            HistorySpec(
                now=now or utcnow(),
                subscriptions=400,
                one_off=3500,
                article_ids=[a.id for a in articles],
                variant_ids=[v.id for v in variants],
            ),
        )
        donations, subscriptions = counts.donations, counts.subscriptions
    return SeedSummary(
        articles=len(articles),
        variants=len(DEMO_VARIANTS),
        admin_email=DEMO_ADMIN_EMAIL,
        donations_added=donations,
        subscriptions_added=subscriptions,
    )
