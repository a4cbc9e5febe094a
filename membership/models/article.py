"""Articles, the support banner's variants and the banner's daily counters."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base, str_enum, utcnow


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Frequency(enum.StrEnum):
    ONCE = "once"
    MONTHLY = "monthly"
    ANNUAL = "annual"


class Placement(enum.StrEnum):
    """Where an appeal appears; each placement has its own variants and counters."""

    ARTICLE = "article"  # at the end of an article
    FRONT = "front"  # a slim banner on the front page
    STICKY = "sticky"  # a bottom banner once a reader has read enough articles


class Article(Base):
    __tablename__ = "article"
    __table_args__ = (Index("ix_article_status_published_at", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    standfirst: Mapped[str] = mapped_column(String(600), default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    # Rendered and sanitized once, when the article is saved (services.articles).
    body_html: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ArticleStatus] = mapped_column(
        str_enum(ArticleStatus),
        default=ArticleStatus.DRAFT,
    )
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Article {self.slug!r} {self.status.value}>"


class BannerVariant(Base):
    """One version of the support appeal; readers are split between active variants by weight."""

    __tablename__ = "banner_variant"
    __table_args__ = (
        CheckConstraint("weight >= 0", name="weight_not_negative"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    headline: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Preset amounts in the currency's minor unit, per frequency: {"once": [100, 500, 1000], ...}.
    amounts: Mapped[dict[str, list[int]]] = mapped_column(JSON)
    default_frequency: Mapped[Frequency] = mapped_column(
        str_enum(Frequency),
        default=Frequency.ONCE,
    )
    weight: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(default=True)
    placement: Mapped[Placement] = mapped_column(
        str_enum(Placement), default=Placement.ARTICLE, server_default=Placement.ARTICLE.value
    )
    # "You've read N articles this month" from this many articles on (counted in the browser only);
    # for the sticky placement, the article from which it appears. None: no count in the copy.
    article_count_threshold: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def amounts_for(self, frequency: Frequency) -> list[int]:
        return list(self.amounts.get(frequency.value, []))


class BannerStat(Base):
    """Daily counters per variant and article: impressions, clicks (the funnel's first steps)."""

    __tablename__ = "banner_stat"
    __table_args__ = (
        UniqueConstraint(
            "day", "variant_id", "article_id", name="uq_banner_stat_day_variant_article"
        ),
        CheckConstraint("impressions >= 0 AND clicks >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    variant_id: Mapped[int] = mapped_column(ForeignKey("banner_variant.id", ondelete="CASCADE"))
    # 0 stands for "no article" (the support page itself) so the unique key works on every database.
    article_id: Mapped[int] = mapped_column(Integer, default=0)
    impressions: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class BannerClick(Base):
    """One counted click per reader, variant and local day: the key that stops a click counter from
    being inflated by repeating a request. `reader` is the random id of the banner's signed
    impression token (no personal data); rows older than a couple of days are pruned."""

    __tablename__ = "banner_click"
    __table_args__ = (
        UniqueConstraint("day", "variant_id", "reader", name="uq_banner_click_day_variant_reader"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("banner_variant.id", ondelete="CASCADE"))
    reader: Mapped[str] = mapped_column(String(32))
