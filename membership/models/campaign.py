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


class AppealReminder(Base):
    """ "Remind me later": one email, about `remind_at`, to a reader who asked for it. The wording
    they agreed to is kept with the request; the address is blanked once the reminder is queued
    (or the reader cancels), so nothing personal outlives its one use."""

    __tablename__ = "appeal_reminder"
    __table_args__ = (Index("ix_appeal_reminder_due", "sent_at", "remind_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    consent_wording: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(120), default="")
    remind_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
