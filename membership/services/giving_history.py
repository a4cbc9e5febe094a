"""A supporter's giving history: what each payment gave in the end, the lifetime total, receipts,
yearly statements (page and CSV), and whether they count as a current supporter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.csv_export import csv_text
from membership.formatting import decimal_amount
from membership.frequency import frequency_of, frequency_words
from membership.models import (
    BillingInterval,
    Donation,
    DonationStatus,
    Subscription,
    Supporter,
)
from membership.services.recurring_gifts import MANAGEABLE, RecurringGift, shown_gifts

_RECEIPT_RE = re.compile(r"^[A-Za-z0-9-]{1,40}$")
# The first year a statement may be asked for; the last is next year, in the publication's zone.
FIRST_STATEMENT_YEAR = 2000


def net_cents(donation: Donation) -> int:
    """What a payment gave in the end: gift plus covered fee, minus refunds; nothing while a
    dispute holds the money or after the bank reversed it."""
    if donation.status is DonationStatus.DISPUTED:
        return 0
    return max(donation.total_cents - donation.refunded_cents, 0)


STATUS_LABELS = {
    DonationStatus.SUCCEEDED: "Paid",
    DonationStatus.REFUNDED: "Refunded",
    DonationStatus.PARTIALLY_REFUNDED: "Partly refunded",
    DonationStatus.DISPUTED: "Disputed",
    DonationStatus.FAILED: "Failed",
}


def status_label(donation: Donation) -> str:
    if donation.status is DonationStatus.DISPUTED and donation.dispute_status == "won":
        return "Paid (dispute resolved)"
    return STATUS_LABELS.get(donation.status, donation.status.value)


@dataclass(frozen=True)
class GiftLine:
    """One payment as the supporter reads it."""

    donation: Donation
    frequency: str  # "Monthly", "One-off", ...
    status: str  # "Paid", "Partly refunded", ...
    net_cents: int  # what it gave in the end (see net_cents)

    @property
    def partly_refunded(self) -> bool:
        """Some of it came back: the page says how much next to the status."""
        donation = self.donation
        return donation.status is DonationStatus.PARTIALLY_REFUNDED and donation.refunded_cents > 0


def _intervals(session: Session, supporter: Supporter) -> dict[int, BillingInterval]:
    return {
        row.id: row.interval
        for row in session.execute(
            select(Subscription.id, Subscription.interval).where(
                Subscription.supporter_id == supporter.id
            )
        )
    }


def _line(donation: Donation, interval: BillingInterval | None) -> GiftLine:
    return GiftLine(
        donation,
        frequency_words(frequency_of(donation.kind, interval)).label,
        status_label(donation),
        net_cents(donation),
    )


def _lines(session: Session, supporter: Supporter, donations: list[Donation]) -> list[GiftLine]:
    intervals = _intervals(session, supporter) if donations else {}
    return [_line(d, intervals.get(d.subscription_id or 0)) for d in donations]


@dataclass(frozen=True)
class Overview:
    lifetime: dict[str, int]  # net cents by currency
    gifts: list[GiftLine]  # newest first
    recurring: list[RecurringGift]
    years: list[int]  # years with payments, for statements, newest first


def account_overview(session: Session, supporter: Supporter, *, zone: ZoneInfo) -> Overview:
    donations = list(
        session.scalars(
            select(Donation)
            .where(Donation.supporter_id == supporter.id)
            .order_by(Donation.paid_at.desc(), Donation.id.desc())
        )
    )
    gifts = _lines(session, supporter, donations)
    lifetime: dict[str, int] = {}
    for line in gifts:
        currency = line.donation.currency
        lifetime[currency] = lifetime.get(currency, 0) + line.net_cents
    years = sorted({d.paid_at.astimezone(zone).year for d in donations}, reverse=True)
    return Overview(lifetime, gifts, shown_gifts(session, supporter), years)


def receipt_for(session: Session, supporter: Supporter, receipt_number: str) -> GiftLine | None:
    """The supporter's own payment with this receipt number; None for anyone else's."""
    if not _RECEIPT_RE.match(receipt_number):
        return None
    donation = session.scalar(
        select(Donation).where(
            Donation.receipt_number == receipt_number, Donation.supporter_id == supporter.id
        )
    )
    if donation is None:
        return None
    interval = (
        session.scalar(
            select(Subscription.interval).where(Subscription.id == donation.subscription_id)
        )
        if donation.subscription_id
        else None
    )
    return _line(donation, interval)


# Yearly statements


@dataclass(frozen=True)
class StatementTotals:
    gift: int = 0
    fee: int = 0
    refunded: int = 0
    net: int = 0


@dataclass(frozen=True)
class Statement:
    year: int
    lines: list[GiftLine]  # oldest first
    totals: dict[str, StatementTotals]  # by currency


def yearly_statement(
    session: Session, supporter: Supporter, year: int, *, zone: ZoneInfo, now: datetime
) -> Statement | None:
    """Every payment in one calendar year of the publication's time zone, oldest first; None
    for a year no statement can cover (before 2000, or after next year)."""
    if not FIRST_STATEMENT_YEAR <= year <= now.astimezone(zone).year + 1:
        return None
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    donations = list(
        session.scalars(
            select(Donation)
            .where(
                Donation.supporter_id == supporter.id,
                Donation.paid_at >= start,
                Donation.paid_at < end,
            )
            .order_by(Donation.paid_at, Donation.id)
        )
    )
    totals: dict[str, StatementTotals] = {}
    for d in donations:
        t = totals.get(d.currency, StatementTotals())
        totals[d.currency] = StatementTotals(
            gift=t.gift + d.amount_cents,
            fee=t.fee + d.fee_cents,
            refunded=t.refunded + d.refunded_cents,
            net=t.net + net_cents(d),
        )
    return Statement(year, _lines(session, supporter, donations), totals)


def statement_csv(statement: Statement, *, zone: ZoneInfo) -> str:
    rows: list[list[str]] = [
        ["date", "receipt_number", "kind", "status", "gift", "fee_covered", "refunded",
         "counted", "currency"]
    ]  # fmt: skip
    for line in statement.lines:
        d = line.donation
        rows.append(
            [
                d.paid_at.astimezone(zone).date().isoformat(),
                d.receipt_number or "",
                line.frequency,
                line.status,
                decimal_amount(d.amount_cents, d.currency),
                decimal_amount(d.fee_cents, d.currency),
                decimal_amount(d.refunded_cents, d.currency),
                decimal_amount(line.net_cents, d.currency),
                d.currency.upper(),
            ]
        )
    for currency, t in sorted(statement.totals.items()):
        rows.append(
            ["total", "", "", "", decimal_amount(t.gift, currency), decimal_amount(t.fee, currency),
             decimal_amount(t.refunded, currency), decimal_amount(t.net, currency), currency.upper()]
        )  # fmt: skip
    return csv_text(rows)


# The banner


def is_current_supporter(
    session: Session, supporter: Supporter, *, quiet_days: int, now: datetime
) -> bool:
    """A live recurring gift, or a gift in the last `quiet_days`: thank them, don't ask."""
    live = session.scalar(
        select(Subscription.id)
        .where(Subscription.supporter_id == supporter.id, Subscription.status.in_(MANAGEABLE))
        .limit(1)
    )
    if live is not None:
        return True
    recent = session.scalar(
        select(Donation.id)
        .where(
            Donation.supporter_id == supporter.id,
            Donation.paid_at >= now - timedelta(days=quiet_days),
            Donation.status.in_([DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED]),
        )
        .limit(1)
    )
    return recent is not None
