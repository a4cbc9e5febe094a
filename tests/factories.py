"""Test data builders that go through the same services the app uses."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from membership.extensions import db
from membership.models import Article, ArticleStatus, BannerVariant, Frequency
from membership.services.articles import ArticleDraft, save_article
from membership.services.banner import save_variant

_counter = itertools.count(1)
BASE_TIME = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def make_article(
    *,
    slug: str | None = None,
    title: str | None = None,
    body: str = "A paragraph of **reporting**.\n",
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    published_at: datetime | None = None,
    standfirst: str = "What happened, in one sentence.",
) -> Article:
    n = next(_counter)
    article = save_article(
        db.session(),
        ArticleDraft(
            slug=slug or f"story-{n}",
            title=title or f"Story number {n}",
            body_markdown=body,
            standfirst=standfirst,
            author="Test Reporter",
            published_at=published_at or BASE_TIME + timedelta(hours=n),
            status=status,
        ),
    )
    db.session.commit()
    return article


def make_variant(
    name: str = "control",
    *,
    headline: str = "Readers fund this newsroom",
    body: str = "Give as little as $1.",
    amounts: dict[str, list[int]] | None = None,
    weight: int = 1,
    active: bool = True,
    default_frequency: Frequency = Frequency.ONCE,
) -> BannerVariant:
    variant = save_variant(
        db.session(),
        name=name,
        headline=headline,
        body=body,
        amounts=amounts or {"once": [100, 500, 1000], "monthly": [300, 500]},
        weight=weight,
        active=active,
        default_frequency=default_frequency,
    )
    db.session.commit()
    return variant
