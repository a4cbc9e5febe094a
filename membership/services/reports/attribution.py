"""Attribution: the funnel from banner impression to payment, per article and per banner variant,
and from a newsletter issue's appeal link to payment, per issue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.orm import Session

from membership.models import (
    Article,
    BannerStat,
    BannerVariant,
    DonationIntent,
    IntentStatus,
    NewsletterIssue,
    Subscription,
)
from membership.services.reports.columns import Column
from membership.services.reports.money import COUNTED, DONATION
from membership.services.reports.periods import ReportError, local_days
from membership.services.reports.statistics import (
    RateWithInterval,
    divide_half_up,
    percent,
    rate_with_interval,
)


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
    # The sum of each payment's square, for the spread of revenue per impression (the verdict).
    revenue_squares: int = 0
    new_recurring: int = 0

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
    def conversion_figures(self) -> RateWithInterval | None:
        """First gifts per hundred banner impressions with its 95% Wilson interval, rounded so
        the figure reads as inside the interval."""
        return rate_with_interval(self.donations, self.impressions)

    @property
    def conversion(self) -> Decimal | None:
        figures = self.conversion_figures
        return None if figures is None else figures.rate

    @property
    def conversion_low(self) -> Decimal | None:
        figures = self.conversion_figures
        return None if figures is None else figures.low

    @property
    def conversion_high(self) -> Decimal | None:
        figures = self.conversion_figures
        return None if figures is None else figures.high

    @property
    def conversion_text(self) -> str | None:
        figures = self.conversion_figures
        return None if figures is None else figures.text

    @property
    def revenue_per_thousand(self) -> int | None:
        """Revenue (minor units) per 1,000 impressions, half up."""
        if self.impressions <= 0:
            return None
        return divide_half_up(self.revenue * 1000, self.impressions)


FUNNEL_COLUMNS = (
    Column("name", "Name"),
    Column("impressions", "Impressions"),
    Column("clicks", "Clicks"),
    Column("checkouts", "Checkouts started"),
    Column("donations", "First gifts"),
    Column("payments", "Payments"),
    Column("revenue", "Revenue", money=True),
    Column("revenue_per_thousand", "Per 1,000 impressions", money=True),
    Column("new_recurring", "New recurring"),
    Column("click_rate", "Click rate %"),
    Column("checkout_rate", "Checkout rate %"),
    Column("completion_rate", "Completion rate %"),
    Column("conversion", "Conversion %"),
    Column("conversion_low", "Conversion 95% low"),
    Column("conversion_high", "Conversion 95% high"),
    Column("conversion_text", "Conversion (95% interval)"),
)


# The page shows what staff decide by, within 1280 pixels; the CSV file has every column.
FUNNEL_PAGE_COLUMNS = tuple(
    column
    for name in (
        "name",
        "impressions",
        "clicks",
        "checkouts",
        "donations",
        "revenue",
        "revenue_per_thousand",
        "new_recurring",
        "conversion_text",
    )
    for column in FUNNEL_COLUMNS
    if column.name == name
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
    if by == "issue":
        return issue_funnel(session, first_day, last_day, zone, limit=limit)
    if by not in ("article", "variant"):
        raise ReportError("Attribution is by article, by variant or by newsletter issue.")
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
    paid = cast(d.c.amount_cents + d.c.fee_cents, BigInteger)
    for donation_ref, payments, revenue, squares in session.execute(
        select(donation_key, func.count(), func.sum(paid), func.sum(paid * paid))
        .where(d.c.paid_at >= starts, d.c.paid_at < ends, COUNTED)
        .group_by(donation_key)
    ):
        r = row(donation_ref)
        r.payments += int(payments)
        r.revenue += int(revenue or 0)
        r.revenue_squares += int(squares or 0)
    subscription_key = (
        Subscription.source_article_id if by == "article" else Subscription.variant_id
    )
    for subscription_ref, started in session.execute(
        select(subscription_key, func.count())
        .where(Subscription.started_at >= starts, Subscription.started_at < ends)
        .group_by(subscription_key)
    ):
        row(subscription_ref).new_recurring += int(started)
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


def issue_funnel(
    session: Session,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    *,
    limit: int | None = 50,
) -> list[FunnelRow]:
    """Per newsletter issue whose appeal links (`source=newsletter-<id>`) started gifts in the
    local dates first_day..last_day: checkouts started and completed from them, and the payments
    and revenue of those gifts paid in the range (renewals of a monthly gift included, failed
    payments not), ordered by revenue. Gifts from no issue are left out: the article and variant
    families already show them. Issues have no impressions or clicks per day (their link clicks
    are counted per issue, undated, on the issue's page), so those columns stay empty."""
    starts, ends = local_days(first_day, last_day, zone)
    d = DONATION
    intent = DonationIntent.__table__
    rows: dict[int, FunnelRow] = {}

    def row(raw: object) -> FunnelRow:
        # Never None: every query below keeps only gifts that name an issue.
        issue_id = int(str(raw))
        return rows.setdefault(issue_id, FunnelRow(key=issue_id, name=""))

    for issue_id, started, completed in session.execute(
        select(
            DonationIntent.source_issue_id,
            func.count(),
            func.count(case((DonationIntent.status == IntentStatus.COMPLETED, 1))),
        )
        .where(
            DonationIntent.source_issue_id.is_not(None),
            DonationIntent.created_at >= starts,
            DonationIntent.created_at < ends,
        )
        .group_by(DonationIntent.source_issue_id)
    ):
        r = row(issue_id)
        r.checkouts += int(started)
        r.donations += int(completed)
    paid = cast(d.c.amount_cents + d.c.fee_cents, BigInteger)
    for issue_id, payments, revenue, squares in session.execute(
        select(intent.c.source_issue_id, func.count(), func.sum(paid), func.sum(paid * paid))
        .select_from(d.join(intent, intent.c.id == d.c.intent_id))
        .where(
            intent.c.source_issue_id.is_not(None),
            d.c.paid_at >= starts,
            d.c.paid_at < ends,
            COUNTED,
        )
        .group_by(intent.c.source_issue_id)
    ):
        r = row(issue_id)
        r.payments += int(payments)
        r.revenue += int(revenue or 0)
        r.revenue_squares += int(squares or 0)
    for issue_id, started in session.execute(
        select(DonationIntent.source_issue_id, func.count())
        .join(Subscription, Subscription.intent_id == DonationIntent.id)
        .where(
            DonationIntent.source_issue_id.is_not(None),
            Subscription.started_at >= starts,
            Subscription.started_at < ends,
        )
        .group_by(DonationIntent.source_issue_id)
    ):
        row(issue_id).new_recurring += int(started)
    subjects: dict[int, str] = {
        issue_id: subject
        for issue_id, subject in session.execute(
            select(NewsletterIssue.id, NewsletterIssue.subject).where(
                NewsletterIssue.id.in_(list(rows))
            )
        )
    }
    for key, r in rows.items():
        r.name = subjects.get(key, f"Issue #{key} (deleted)")
    ordered = sorted(rows.values(), key=lambda r: (-r.revenue, -r.donations, r.name))
    return ordered[:limit] if limit is not None else ordered
