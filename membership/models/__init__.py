"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from membership.models.article import (
    Article,
    ArticleStatus,
    BannerStat,
    BannerVariant,
    Frequency,
)
from membership.models.base import Base, UTCDateTime, utcnow
from membership.models.email import EmailMessage, EmailStatus
from membership.models.staff import StaffMember, StaffRole

__all__ = [
    "Article",
    "ArticleStatus",
    "BannerStat",
    "BannerVariant",
    "Base",
    "EmailMessage",
    "EmailStatus",
    "Frequency",
    "StaffMember",
    "StaffRole",
    "UTCDateTime",
    "utcnow",
]
