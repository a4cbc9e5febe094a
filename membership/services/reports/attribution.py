"""Attribution: the funnel from banner impression to payment, per article and per banner variant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from membership.models import Article, BannerStat, BannerVariant, DonationIntent, IntentStatus
from membership.services.reports.columns import Column
from membership.services.reports.money import COUNTED, DONATION
from membership.services.reports.periods import ReportError, local_days
from membership.services.reports.statistics import percent, wilson_interval


@dataclass
class FunnelRow:
    key: int | None
    name: str
    impressions: int = 0
    clicks: int = 0
    checkouts: int = 0
    donations: int = 0
    payments: int = 0
    revenue: int = 0

    @property
    def click_rate(self) -> float | None:
        return percent(self.clicks, self.impressions)

    @property
    def checkout_rate(self) -> float | None:
        return percent(self.checkouts, self.clicks)

    @property
    def completion_rate(self) -> float | None:
        return percent(self.donations, self.checkouts)

    @property
    def conversion(self) -> float | None:
        """First gifts per hundred banner impressions."""
        return percent(self.donations, self.impressions)

    @property
    def conversion_interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.donations, self.impressions) if self.impressions else None

    @property
    def conversion_low(self) -> float | None:
        interval = self.conversion_interval
        return None if interval is None else interval[0]

    @property
    def conversion_high(self) -> float | None:
        interval = self.conversion_interval
        return None if interval is None else interval[1]


FUNNEL_COLUMNS = (
    Column("name", "Name"),
    Column("impressions", "Impressions"),
    Column("clicks", "Clicks"),
    Column("checkouts", "Checkouts started"),
    Column("donations", "First gifts"),
    Column("payments", "Payments"),
    Column("revenue", "Revenue", money=True),
    Column("click_rate", "Click rate %"),
    Column("checkout_rate", "Checkout rate %"),
    Column("completion_rate", "Completion rate %"),
    Column("conversion", "Conversion %"),
    Column("conversion_low", "Conversion 95% low"),
    Column("conversion_high", "Conversion 95% high"),
)


def funnel(
    session: Session,
    by: str,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    *,
    limit: int | None = 50,
) -> list[FunnelRow]:
    """Per article (`by="article"`) or banner variant (`by="variant"`) in the local dates
    first_day..last_day: impressions and clicks (banner counters), checkouts started (donation
    intents), first gifts (intents completed), and payments and revenue (every donation paid in
    the range and attributed to it, renewals included), ordered by revenue."""
    if by not in ("article", "variant"):
        raise ReportError("Attribution is by article or by variant.")
    starts, ends = local_days(first_day, last_day, zone)
    d = DONATION
    stat_key = BannerStat.article_id if by == "article" else BannerStat.variant_id
    intent_key = DonationIntent.source_article_id if by == "article" else DonationIntent.variant_id
    donation_key = d.c.source_article_id if by == "article" else d.c.variant_id
    rows: dict[int | None, FunnelRow] = {}

    def row(raw: int | None) -> FunnelRow:
        # Banner counters use 0 for "no article": the support page itself.
        key = None if raw is None or raw == 0 else int(raw)
        if key not in rows:
            rows[key] = FunnelRow(key=key, name="")
        return rows[key]

    for stat_id, impressions, clicks in session.execute(
        select(stat_key, func.sum(BannerStat.impressions), func.sum(BannerStat.clicks))
        .where(BannerStat.day >= first_day, BannerStat.day <= last_day)
        .group_by(stat_key)
    ):
        r = row(stat_id)
        r.impressions += int(impressions or 0)
        r.clicks += int(clicks or 0)
    for intent_ref, started, completed in session.execute(
        select(
            intent_key,
            func.count(),
            func.count(case((DonationIntent.status == IntentStatus.COMPLETED, 1))),
        )
        .where(DonationIntent.created_at >= starts, DonationIntent.created_at < ends)
        .group_by(intent_key)
    ):
        r = row(intent_ref)
        r.checkouts += int(started)
        r.donations += int(completed)
    for donation_ref, payments, revenue in session.execute(
        select(donation_key, func.count(), func.sum(d.c.amount_cents + d.c.fee_cents))
        .where(d.c.paid_at >= starts, d.c.paid_at < ends, COUNTED)
        .group_by(donation_key)
    ):
        r = row(donation_ref)
        r.payments += int(payments)
        r.revenue += int(revenue or 0)
    keys = [k for k in rows if k is not None]
    if by == "article":
        names = {
            k: v
            for k, v in session.execute(
                select(Article.id, Article.title).where(Article.id.in_(keys))
            )
        }
        unnamed = "No article (support page)"
    else:
        names = {
            k: v
            for k, v in session.execute(
                select(BannerVariant.id, BannerVariant.name).where(BannerVariant.id.in_(keys))
            )
        }
        unnamed = "No banner"
    for key, r in rows.items():
        r.name = unnamed if key is None else names.get(key, f"#{key} (deleted)")
    ordered = sorted(
        rows.values(), key=lambda r: (-r.revenue, -r.donations, -r.impressions, r.name)
    )
    return ordered[:limit] if limit is not None else ordered
