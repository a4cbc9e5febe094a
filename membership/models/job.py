"""Periodic job leases: one row per registered job, so several workers run each job once a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base


class JobLease(Base):
    """Which period of a job was claimed, by whom, until when, and how its last run ended.

    Claimed by one conditional UPDATE (`services.jobs.claim_job`), so two workers that reach a
    new period together cannot both run it.
    """

    __tablename__ = "job_lease"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_not_negative"),)

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    # Start of the period last claimed (periods are aligned to the epoch, in UTC).
    period_start: Mapped[datetime | None]
    # True once a run finished well in `period_start`'s period: nothing more to do until the next.
    period_done: Mapped[bool] = mapped_column(Boolean, default=False)
    leased_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(80))
    # A failed run is retried in the same period, after a backoff.
    retry_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_started_at: Mapped[datetime | None]
    last_succeeded_at: Mapped[datetime | None]
    last_summary: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<JobLease {self.name} {self.period_start}>"
