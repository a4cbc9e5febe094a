"""Demo content: original articles, banner copy and a staff account, added idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from membership.models import Frequency
from membership.services.articles import import_articles
from membership.services.banner import save_variant
from membership.services.staff import create_or_update_staff

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


def seed_demo(session: Session) -> SeedSummary:
    articles = import_articles(session, DEMO_DIR / "articles")
    for spec in DEMO_VARIANTS:
        save_variant(session, **spec)  # type: ignore[arg-type]
    create_or_update_staff(session, email=DEMO_ADMIN_EMAIL, role="admin", name="Demo Admin")
    return SeedSummary(
        articles=len(articles), variants=len(DEMO_VARIANTS), admin_email=DEMO_ADMIN_EMAIL
    )
