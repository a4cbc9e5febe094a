"""Who gets which lifecycle email when: one function per kind, each `(session, now, config)` ->
how many it queued. They run daily (or more often); each looks back a short catch-up window so a
missed day is made up, and the dedupe key (supporter, kind, period) makes a second run send
nothing. The dunning sequence lives in `dunning.py`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from membership.config import Config
from membership.dates import add_months
from membership.formatting import format_date, format_money
from membership.models import (
    Donation,
    DonationKind,
    DonationStatus,
    LifecycleMessage,
    Subscription,
    SubscriptionStatus,
    Supporter,
)
from membership.payments.objects import CardExpiry
from membership.services.errors import PaymentUnavailable
from membership.services.lifecycle.sending import queue_lifecycle
from membership.services.lifecycle.upgrade import gives_regularly, upgrade_link

log = logging.getLogger(__name__)

# How far back a run looks for an event it has not mailed about yet (missed runs catch up; an
# old event does not send when a kind is switched on).
CATCH_UP = timedelta(days=7)
GIVEN = (DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED)
WIN_BACK_AFTER_END = timedelta(days=60)
UPGRADE_ASK_EVERY = timedelta(days=365)

CardExpiryLookup = Callable[[str], CardExpiry]


def _base(config: Config) -> str:
    return config.base_url.rstrip("/")


def send_welcomes(session: Session, now: datetime, config: Config) -> int:
    """A note from the editor after a supporter's first gift; one per supporter, ever."""
    earlier = aliased(Donation)
    rows = session.execute(
        select(Donation, Supporter)
        .join(Supporter, Supporter.id == Donation.supporter_id)
        .where(
            Donation.paid_at > now - CATCH_UP,
            Donation.paid_at <= now,
            Donation.status.in_(GIVEN),
            ~exists().where(
                earlier.supporter_id == Donation.supporter_id,
                earlier.paid_at < Donation.paid_at,
                earlier.status != DonationStatus.FAILED,
            ),
        )
        .order_by(Donation.id)
    )
    queued = 0
    for donation, supporter in rows:
        queued += (
            queue_lifecycle(
                session,
                "welcome",
                supporter,
                "once",
                values={"amount": format_money(donation.amount_cents, donation.currency)},
                links={},
                config=config,
                now=now,
            )
            is not None
        )
    return queued


def suggested_monthly_cents(gift_cents: int, config: Config) -> int:
    """A fifth of the one-off gift, in whole units of the currency, at least the minimum gift."""
    return max(config.min_amount_cents, round(gift_cents / 500) * 100)


def send_upgrade_asks(session: Session, now: datetime, config: Config) -> int:
    """One-off donors `upgrade_ask_days` after a gift: would they give monthly? Never to someone
    who gives regularly already, and at most once in 12 months."""
    due = now - timedelta(days=config.upgrade_ask_days)
    earlier_ask = aliased(LifecycleMessage)
    rows = session.execute(
        select(Donation, Supporter)
        .join(Supporter, Supporter.id == Donation.supporter_id)
        .where(
            Donation.kind == DonationKind.ONE_OFF,
            Donation.status.in_(GIVEN),
            Donation.paid_at > due - CATCH_UP,
            Donation.paid_at <= due,
            ~gives_regularly(Donation.supporter_id),
            ~exists().where(
                earlier_ask.supporter_id == Donation.supporter_id,
                earlier_ask.kind == "upgrade_ask",
                earlier_ask.created_at > now - UPGRADE_ASK_EVERY,
            ),
        )
        .order_by(Donation.paid_at.desc(), Donation.id.desc())
    )
    queued = 0
    asked: set[int] = set()
    for donation, supporter in rows:
        # Several gifts in the window: the newest asks; the 12-month rule covers the others.
        if supporter.id in asked:
            continue
        asked.add(supporter.id)
        monthly = suggested_monthly_cents(donation.amount_cents, config)
        # A page with one button that opens Checkout for this monthly gift (upgrade.py).
        link = upgrade_link(config, supporter.id, monthly)
        message = queue_lifecycle(
            session,
            "upgrade_ask",
            supporter,
            f"gift:{donation.id}",
            values={
                "amount": format_money(donation.amount_cents, donation.currency),
                "monthly_amount": format_money(monthly, donation.currency),
            },
            links={"monthly_link": link},
            config=config,
            now=now,
        )
        queued += message is not None
    return queued


def send_win_backs(session: Session, now: datetime, config: Config) -> int:
    """One message per lapse: one-off donors whose last gift was 11-13 months ago, and recurring
    supporters 60 days after their gift ended (unless they have given since)."""
    later = aliased(Donation)
    lapsed = session.execute(
        select(Donation, Supporter)
        .join(Supporter, Supporter.id == Donation.supporter_id)
        .where(
            Donation.kind == DonationKind.ONE_OFF,
            Donation.status.in_(GIVEN),
            Donation.paid_at > add_months(now, -13),
            Donation.paid_at <= add_months(now, -11),
            ~exists().where(
                later.supporter_id == Donation.supporter_id, later.paid_at > Donation.paid_at
            ),
            ~gives_regularly(Donation.supporter_id),
        )
        .order_by(Donation.id)
    )
    queued = 0
    give_link = {"give_link": f"{_base(config)}/support?source=win-back"}
    for donation, supporter in lapsed:
        queued += (
            queue_lifecycle(
                session,
                "win_back",
                supporter,
                f"lapse:gift:{donation.id}",
                values={"last_gift_date": format_date(donation.paid_at, config.zone)},
                links=give_link,
                config=config,
                now=now,
            )
            is not None
        )
    ended_at = func.coalesce(Subscription.ended_at, Subscription.canceled_at)
    ended = session.execute(
        select(Subscription, Supporter)
        .join(Supporter, Supporter.id == Subscription.supporter_id)
        .where(
            Subscription.status == SubscriptionStatus.CANCELED,
            ended_at > now - WIN_BACK_AFTER_END - CATCH_UP,
            ended_at <= now - WIN_BACK_AFTER_END,
            ~gives_regularly(Subscription.supporter_id),
            ~exists().where(
                later.supporter_id == Subscription.supporter_id, later.paid_at > ended_at
            ),
        )
        .order_by(Subscription.id)
    )
    for subscription, supporter in ended:
        last = session.scalar(
            select(func.max(Donation.paid_at)).where(Donation.supporter_id == supporter.id)
        )
        queued += (
            queue_lifecycle(
                session,
                "win_back",
                supporter,
                f"lapse:subscription:{subscription.id}",
                values={
                    "last_gift_date": format_date(last or subscription.started_at, config.zone)
                },
                links=give_link,
                config=config,
                now=now,
            )
            is not None
        )
    return queued


def send_card_expiring(
    session: Session, now: datetime, config: Config, card_expiry: CardExpiryLookup
) -> int:
    """The month before the card paying a recurring gift expires, a note with the update link.

    The expiry comes from Stripe (one lookup per live recurring gift), so it is looked up only in
    the first week of each month (in the newsroom's zone), and not again once this month's note
    went out.
    """
    local = now.astimezone(config.zone)
    if local.day > CATCH_UP.days:
        return 0
    next_month = add_months(local.date().replace(day=1), 1)
    period = f"card:{next_month.year}-{next_month.month:02d}"
    noted = aliased(LifecycleMessage)
    rows = session.execute(
        select(Subscription, Supporter)
        .join(Supporter, Supporter.id == Subscription.supporter_id)
        .where(
            Subscription.status.in_(
                [
                    SubscriptionStatus.ACTIVE,
                    SubscriptionStatus.TRIALING,
                    SubscriptionStatus.PAST_DUE,
                ]
            ),
            Subscription.cancel_at_period_end.is_(False),
            ~exists().where(
                noted.supporter_id == Subscription.supporter_id,
                noted.kind == "card_expiring",
                noted.period == period,
            ),
        )
        .order_by(Subscription.id)
    )
    queued = 0
    for subscription, supporter in rows:
        try:
            card = card_expiry(subscription.stripe_subscription_id)
        except PaymentUnavailable as error:
            log.warning("card expiry of %s unknown: %s", subscription.stripe_subscription_id, error)
            continue
        if (card.year, card.month) != (next_month.year, next_month.month):
            continue
        queued += (
            queue_lifecycle(
                session,
                "card_expiring",
                supporter,
                period,
                values={"expiry": f"{card.month:02d}/{card.year}"},
                links={"update_card_link": f"{_base(config)}/account"},
                config=config,
                now=now,
            )
            is not None
        )
    return queued


def send_years_in_review(session: Session, now: datetime, config: Config) -> int:
    """In January, everyone who gave last year: their total and their yearly statement."""
    local = now.astimezone(config.zone)
    if local.month != 1:
        return 0
    year = local.year - 1
    start = datetime(year, 1, 1, tzinfo=config.zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=config.zone).astimezone(UTC)
    counted = Donation.amount_cents + Donation.fee_cents - Donation.refunded_cents
    totals = session.execute(
        select(Donation.supporter_id, Donation.currency, func.sum(counted))
        .where(
            Donation.paid_at >= start,
            Donation.paid_at < end,
            Donation.supporter_id.is_not(None),
            Donation.status.in_([*GIVEN, DonationStatus.REFUNDED]),
        )
        .group_by(Donation.supporter_id, Donation.currency)
        .order_by(Donation.supporter_id, Donation.currency)
    )
    by_supporter: dict[int, list[str]] = {}
    for supporter_id, currency, cents in totals:
        if supporter_id is not None and cents and cents > 0:
            by_supporter.setdefault(supporter_id, []).append(format_money(int(cents), currency))
    queued = 0
    for supporter_id, amounts in by_supporter.items():
        supporter = session.get(Supporter, supporter_id)
        if supporter is None:  # pragma: no cover - the donation's foreign key
            continue
        queued += (
            queue_lifecycle(
                session,
                "year_in_review",
                supporter,
                str(year),
                values={"year": str(year), "total": " and ".join(amounts)},
                links={"statement_link": f"{_base(config)}/account/statements/{year}"},
                config=config,
                now=now,
            )
            is not None
        )
    return queued
