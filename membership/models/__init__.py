"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from membership.models.article import (
    Article,
    ArticleStatus,
    BannerStat,
    BannerVariant,
    Frequency,
)
from membership.models.base import Base, UTCDateTime, utcnow
from membership.models.staff import StaffMember, StaffRole

__all__ = [
    "Article",
    "ArticleStatus",
    "BannerStat",
    "BannerVariant",
    "Base",
    "Frequency",
    "StaffMember",
    "StaffRole",
    "UTCDateTime",
    "utcnow",
]
