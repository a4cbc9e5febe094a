"""The support banner: which variant a reader sees, and the counters behind its conversion figures."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from membership.models import BannerStat, BannerVariant, Frequency
from membership.services.sql import dialect_insert


@dataclass(frozen=True)
class BannerCopy:
    """What a page or script needs to show one variant; detached from the session."""

    id: int
    name: str
    headline: str
    body: str
    amounts: dict[str, list[int]]
    default_frequency: str

    @classmethod
    def of(cls, variant: BannerVariant) -> BannerCopy:
        return cls(
            id=variant.id,
            name=variant.name,
            headline=variant.headline,
            body=variant.body,
            amounts={k: list(v) for k, v in variant.amounts.items()},
            default_frequency=variant.default_frequency.value,
        )

    def amounts_for(self, frequency: str) -> list[int]:
        return self.amounts.get(frequency, [])


def active_variants(session: Session) -> list[BannerVariant]:
    return list(
        session.scalars(
            select(BannerVariant).where(BannerVariant.active.is_(True)).order_by(BannerVariant.id)
        )
    )


def control_variant(session: Session) -> BannerCopy | None:
    """The variant rendered into the cacheable page (and shown when JavaScript is off)."""
    variants = active_variants(session)
    return BannerCopy.of(variants[0]) if variants else None


def banner_version_columns() -> tuple[ScalarSelect[datetime], ScalarSelect[int]]:
    """Scalar subqueries that change whenever a banner variant is added, edited or removed."""
    return (
        select(func.max(BannerVariant.updated_at)).scalar_subquery(),
        select(func.count(BannerVariant.id)).scalar_subquery(),
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
    if now is not None:
        variant.updated_at = now
    session.flush()
    return variant
