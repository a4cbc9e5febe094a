"""The support banner: which variant a reader sees, and the counters behind its conversion figures."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from membership.models import (
    BannerClick,
    BannerStat,
    BannerVariant,
    Campaign,
    Frequency,
    Placement,
)
from membership.services.appeal_cookies import Impression
from membership.services.campaigns import running_campaign
from membership.services.sql import dialect_insert


@dataclass(frozen=True)
class BannerCopy:
    """What a page or script needs to show one variant; detached from the session. While a
    campaign runs, its headline, copy and amounts stand in for the variant's (the variant still
    names the experiment arm its counters belong to)."""

    id: int
    name: str
    headline: str
    body: str
    amounts: dict[str, list[int]]
    default_frequency: str
    placement: str = Placement.ARTICLE.value
    article_count_threshold: int | None = None
    campaign_slug: str | None = None
    matching_text: str = ""

    @classmethod
    def of(cls, variant: BannerVariant, campaign: Campaign | None = None) -> BannerCopy:
        source: BannerVariant | Campaign = campaign if campaign is not None else variant
        return cls(
            id=variant.id,
            name=variant.name,
            headline=source.headline,
            body=source.body,
            amounts={k: list(v) for k, v in source.amounts.items()},
            default_frequency=source.default_frequency.value,
            placement=variant.placement.value,
            article_count_threshold=variant.article_count_threshold,
            campaign_slug=campaign.slug if campaign is not None else None,
            matching_text=campaign.matching_text if campaign is not None else "",
        )

    def amounts_for(self, frequency: str) -> list[int]:
        return self.amounts.get(frequency, [])


def active_variants(
    session: Session, placement: Placement = Placement.ARTICLE
) -> list[BannerVariant]:
    return list(
        session.scalars(
            select(BannerVariant)
            .where(BannerVariant.active.is_(True), BannerVariant.placement == placement)
            .order_by(BannerVariant.id)
        )
    )


def control_variant(
    session: Session, now: datetime, placement: Placement = Placement.ARTICLE
) -> BannerCopy | None:
    """The variant rendered into the cacheable page (and shown when JavaScript is off), in the
    running campaign's words while there is one."""
    variants = active_variants(session, placement)
    if not variants:
        return None
    return BannerCopy.of(variants[0], running_campaign(session, now))


def banner_version_columns(now: datetime) -> tuple[ScalarSelect[Any], ...]:
    """Scalar subqueries that change whenever a banner variant is added, edited or removed, or a
    campaign starts, ends or is edited (the cached page carries the campaign's appeal)."""
    running = (Campaign.starts_at <= now, Campaign.ends_at > now)
    return (
        select(func.max(BannerVariant.updated_at)).scalar_subquery(),
        select(func.count(BannerVariant.id)).scalar_subquery(),
        select(func.max(Campaign.id)).where(*running).scalar_subquery(),
        select(func.max(Campaign.updated_at)).where(*running).scalar_subquery(),
    )


def choose_variant(
    variants: Sequence[BannerVariant], sticky_id: int | None, rng: random.Random | None = None
) -> BannerVariant | None:
    """Keep a reader on the variant they saw before; otherwise pick one by weight."""
    candidates = [v for v in variants if v.active and v.weight > 0]
    if not candidates:
        return None
    for variant in candidates:
        if variant.id == sticky_id:
            return variant
    chooser = rng or random.SystemRandom()
    return chooser.choices(candidates, weights=[v.weight for v in candidates], k=1)[0]


def count_banner_event(
    session: Session,
    *,
    day: date,
    variant_id: int,
    article_id: int | None,
    impressions: int = 0,
    clicks: int = 0,
) -> None:
    """Add to one day's counters with a single atomic upsert (safe under concurrent requests)."""
    values = {
        "day": day,
        "variant_id": variant_id,
        "article_id": article_id or 0,
        "impressions": impressions,
        "clicks": clicks,
    }
    stmt = dialect_insert(session, BannerStat).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "variant_id", "article_id"],
        set_={
            "impressions": BannerStat.impressions + stmt.excluded.impressions,
            "clicks": BannerStat.clicks + stmt.excluded.clicks,
        },
    )
    session.execute(stmt)


def variant_exists(session: Session, variant_id: int) -> bool:
    return session.get(BannerVariant, variant_id) is not None


def count_banner_click(
    session: Session,
    *,
    day: date,
    variant_id: int,
    article_id: int | None,
    impression: Impression | None,
) -> bool:
    """Count a reader's click on a banner link (True), at most once per reader, variant and day.

    Only a click that carries the signed impression of the same variant counts: a bare request
    for `/support?variant=N`, or the same reader asking again, changes nothing.
    """
    if impression is None or impression.variant_id != variant_id:
        return False
    if not variant_exists(session, variant_id):
        return False
    # Yesterday's keys are kept: a local day's clicks may still arrive around midnight.
    session.execute(delete(BannerClick).where(BannerClick.day < day - timedelta(days=1)))
    stmt = (
        dialect_insert(session, BannerClick)
        .values(day=day, variant_id=variant_id, reader=impression.reader)
        .on_conflict_do_nothing(index_elements=["day", "variant_id", "reader"])
        .returning(BannerClick.id)
    )
    if session.execute(stmt).scalar() is None:  # this reader's click was counted today already
        return False
    count_banner_event(session, day=day, variant_id=variant_id, article_id=article_id, clicks=1)
    return True


def save_variant(
    session: Session,
    *,
    name: str,
    headline: str,
    body: str,
    amounts: dict[str, list[int]],
    default_frequency: Frequency = Frequency.ONCE,
    weight: int = 1,
    active: bool = True,
    placement: Placement = Placement.ARTICLE,
    article_count_threshold: int | None = None,
    now: datetime | None = None,
) -> BannerVariant:
    """Create or update the variant with this name."""
    for frequency, values in amounts.items():
        Frequency(frequency)
        if not values or any(not isinstance(v, int) or v <= 0 for v in values):
            raise ValueError(f"amounts for {frequency} must be positive whole cents")
    variant = session.scalar(select(BannerVariant).where(BannerVariant.name == name))
    if variant is None:
        variant = BannerVariant(name=name)
        session.add(variant)
    variant.headline = headline
    variant.body = body
    variant.amounts = {k: list(v) for k, v in amounts.items()}
    variant.default_frequency = default_frequency
    variant.weight = weight
    variant.active = active
    variant.placement = placement
    variant.article_count_threshold = article_count_threshold
    if now is not None:
        variant.updated_at = now
    session.flush()
    return variant
