"""Demo content: original articles, banner copy, staff accounts and a year of giving, added idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from membership.models import Frequency, utcnow
from membership.services.articles import import_articles
from membership.services.banner import save_variant
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
        "amounts": DEMO_AMOUNTS,
        "default_frequency": Frequency.MONTHLY,
        "weight": 1,
    },
]  # fmt: skip


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
