"""Test data builders that go through the same services the app uses."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select

from membership.extensions import db
from membership.models import (
    Article,
    ArticleStatus,
    BannerVariant,
    Donation,
    DonationKind,
    DonationStatus,
    EmailMessage,
    Frequency,
    Supporter,
)
from membership.services.articles import ArticleDraft, save_article
from membership.services.banner import save_variant
from membership.services.outbox import enqueue_email
from membership.services.supporters import find_or_create_supporter

M = TypeVar("M")
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


def make_email(
    n: int = 1,
    *,
    now: datetime | None = BASE_TIME,
    to: str | None = None,
    subject: str | None = None,
    text: str | None = None,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    kind: str = "receipt",
) -> EmailMessage:
    """Queue email number `n` (its dedupe key is test:n) and commit; `now=None` means real time."""
    message = enqueue_email(
        db.session(),
        kind=kind,
        to=to or f"reader{n}@example.org",
        subject=subject or f"Message {n}",
        text=text or f"Thank you, reader {n}.",
        html=html,
        headers=headers,
        dedupe_key=f"test:{n}",
        now=now,
    )
    db.session.commit()
    assert message is not None
    return message


def count(model: type) -> int:
    """Rows of a model as the database has them now (not the session's cached view)."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def only(model: type[M]) -> M:
    """The one row of a model; fails if there are none or several."""
    db.session.expire_all()
    rows = db.session.scalars(select(model)).all()
    assert len(rows) == 1, rows  # noqa: S101 (test helper)
    return rows[0]


def make_supporter(email: str = "supporter@example.org", *, name: str = "") -> Supporter:
    supporter = find_or_create_supporter(db.session(), email=email, name=name)
    db.session.commit()
    assert supporter is not None
    return supporter


def make_donation(
    supporter: Supporter | None,
    *,
    amount_cents: int = 500,
    fee_cents: int = 0,
    paid_at: datetime = BASE_TIME,
    status: DonationStatus = DonationStatus.SUCCEEDED,
    refunded_cents: int = 0,
    kind: DonationKind = DonationKind.ONE_OFF,
) -> Donation:
    """A recorded payment, as the webhook handlers leave it (receipt number included)."""
    n = next(_counter)
    donation = Donation(
        amount_cents=amount_cents,
        fee_cents=fee_cents,
        currency="usd",
        kind=kind,
        status=status,
        refunded_cents=refunded_cents,
        stripe_payment_intent_id=f"pi_factory_{n}",
        supporter_id=supporter.id if supporter else None,
        paid_at=paid_at,
    )
    db.session.add(donation)
    db.session.flush()
    donation.receipt_number = f"OBS-{paid_at.year}-{donation.id:06d}"
    db.session.commit()
    return donation
