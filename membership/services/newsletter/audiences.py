"""Who an issue goes to: confirmed subscribers, narrowed by what their address has given.

Each audience is one SQL condition on `subscriber`, correlated through indexed columns only:
`supporter.email` (unique), `subscription.supporter_id`, `donation (supporter_id, paid_at)` and
`email_suppression.address` (primary key). The plan is the `ix_subscriber_status_id` range scan of
confirmed subscribers by id (the send job's keyset pages) with, per subscriber, index lookups
into those; never a scan of donations. `tests/web/newsletter/test_audiences.py` checks the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, select, true
from sqlalchemy.orm import Session

from membership.dates import add_months
from membership.models import (
    Donation,
    DonationKind,
    DonationStatus,
    EmailSuppression,
    Subscriber,
    SubscriberStatus,
    Subscription,
    Supporter,
)
from membership.services.recurring_gifts import MANAGEABLE

GIVEN = (DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED)


@dataclass(frozen=True)
class Audience:
    name: str
    label: str


AUDIENCES = {
    audience.name: audience
    for audience in (
        Audience("everyone", "Everyone confirmed"),
        Audience("supporters", "Current supporters (a live recurring gift or a recent gift)"),
        Audience("non_supporters", "Not current supporters"),
        Audience("lapsed", "Lapsed donors (gave before, not current supporters)"),
        Audience("one_off_recent", "One-off donors of the last 12 months"),
    )
}


def _supporter_of_subscriber() -> ColumnElement[bool]:
    return Supporter.email == Subscriber.email


def _live_gift() -> ColumnElement[bool]:
    return exists().where(
        _supporter_of_subscriber(),
        Subscription.supporter_id == Supporter.id,
        Subscription.status.in_(MANAGEABLE),
    )


def _gift_since(since: datetime, *, kind: DonationKind | None = None) -> ColumnElement[bool]:
    conditions = [
        _supporter_of_subscriber(),
        Donation.supporter_id == Supporter.id,
        Donation.paid_at >= since,
        Donation.status.in_(GIVEN),
    ]
    if kind is not None:
        conditions.append(Donation.kind == kind)
    return exists().where(*conditions)


def _ever_gave() -> ColumnElement[bool]:
    return exists().where(
        _supporter_of_subscriber(),
        Donation.supporter_id == Supporter.id,
        Donation.status != DonationStatus.FAILED,
    )


def is_current_supporter(*, quiet_days: int, now: datetime) -> ColumnElement[bool]:
    """As the banner decides it: a live recurring gift, or a gift within `quiet_days`."""
    return _live_gift() | _gift_since(now - timedelta(days=quiet_days))


def audience_condition(name: str, *, quiet_days: int, now: datetime) -> ColumnElement[bool]:
    """Confirmed, not suppressed, and in the audience. Unknown names raise KeyError."""
    current = is_current_supporter(quiet_days=quiet_days, now=now)
    narrowed: ColumnElement[bool] = {
        "everyone": true(),
        "supporters": current,
        "non_supporters": ~current,
        "lapsed": and_(_ever_gave(), ~current),
        "one_off_recent": _gift_since(add_months(now, -12), kind=DonationKind.ONE_OFF),
    }[name]
    return and_(
        Subscriber.status == SubscriberStatus.CONFIRMED,
        ~exists().where(EmailSuppression.address == Subscriber.email),
        narrowed,
    )


def audience_counts(session: Session, *, quiet_days: int, now: datetime) -> dict[str, int]:
    """How many each audience would reach now, for the staff page before sending."""
    return {
        name: session.scalar(
            select(func.count())
            .select_from(Subscriber)
            .where(audience_condition(name, quiet_days=quiet_days, now=now))
        )
        or 0
        for name in AUDIENCES
    }
