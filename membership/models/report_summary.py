"""The daily money summary the staff reports read instead of every donation row."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base, utcnow


class SummaryZone(Base):
    """A time zone whose local days `daily_summary` is complete for (written by a rebuild).

    Reports asked in another zone read the raw rows; money writers keep every zone listed here
    up to date in the transaction of each change."""

    __tablename__ = "summary_zone"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    rebuilt_at: Mapped[datetime] = mapped_column(default=utcnow)


class DailySummary(Base):
    """Money per local day (in `zone`), currency, kind and gift amount.

    `donations` and `fees_cents` are the counted donations (not failed) paid that day with this
    gift amount (their gifts are amount_cents * donations, their gross gifts + fees); refunds
    (pending or succeeded, dated when made) and dispute movements (dated when Stripe moved the
    money) are added to the row of the donation they belong to, on their own day. Keeping the
    gift amount in the key gives the exact median gift from the summary alone.
    """

    __tablename__ = "daily_summary"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount_cents: Mapped[int] = mapped_column(Integer, primary_key=True)
    donations: Mapped[int] = mapped_column(Integer, default=0)
    fees_cents: Mapped[int] = mapped_column(Integer, default=0)
    refunds_cents: Mapped[int] = mapped_column(Integer, default=0)
    dispute_cents: Mapped[int] = mapped_column(Integer, default=0)
    dispute_fee_cents: Mapped[int] = mapped_column(Integer, default=0)


class DailyMrr(Base):
    """MRR spans started and ended per local day (in `zone`): MRR at a local midnight is what
    started before it less what ended before it, without reading every span."""

    __tablename__ = "daily_mrr"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    started_cents: Mapped[int] = mapped_column(Integer, default=0)
    started_count: Mapped[int] = mapped_column(Integer, default=0)
    ended_cents: Mapped[int] = mapped_column(Integer, default=0)
    ended_count: Mapped[int] = mapped_column(Integer, default=0)
