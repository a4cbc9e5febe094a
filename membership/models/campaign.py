"""Fundraising campaigns: a drive with dates, a goal, its own appeal and landing page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.article import Frequency
from membership.models.base import Base, str_enum, utcnow


class Campaign(Base):
    """While it runs (starts_at <= now < ends_at), its appeal replaces the banner variants' copy
    and amounts; its progress counts every confirmed gift paid in that time."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("goal_cents IS NULL OR goal_cents > 0", name="goal_cents_positive"),
        CheckConstraint(
            "goal_supporters IS NULL OR goal_supporters > 0", name="goal_supporters_positive"
        ),
        CheckConstraint(
            "matching_cap_cents IS NULL OR matching_cap_cents > 0", name="matching_cap_positive"
        ),
        Index("ix_campaign_dates", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    headline: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Preset amounts in minor units per frequency, as on a banner variant.
    amounts: Mapped[dict[str, list[int]]] = mapped_column(JSON)
    default_frequency: Mapped[Frequency] = mapped_column(
        str_enum(Frequency), default=Frequency.ONCE
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    goal_cents: Mapped[int | None] = mapped_column(Integer)
    goal_supporters: Mapped[int | None] = mapped_column(Integer)
    # Optional: "Every gift is doubled up to $10,000 by ..." with the cap it names.
    matching_text: Mapped[str] = mapped_column(String(300), default="")
    matching_cap_cents: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def amounts_for(self, frequency: Frequency) -> list[int]:
        return list(self.amounts.get(frequency.value, []))
