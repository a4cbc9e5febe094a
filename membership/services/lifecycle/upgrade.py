"""The upgrade ask's one-click link: a signed link to a page that says what will happen (this
amount, every month) with one button; the button (a POST) opens a Stripe Checkout Session for
that monthly gift, filled in with the supporter's address and customer. Opening the page never
creates anything, so mail scanners and link previews that fetch it cost nothing."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import Frequency, Subscription, SubscriptionStatus, Supporter
from membership.services.checkout import DonationChoice
from membership.services.errors import ServiceError

_SALT = "lifecycle-upgrade"
# Someone with one of these gives regularly already: no upgrade ask (nor win-back), and the
# upgrade page starts nothing for them.
LIVE = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.PAUSED,
)
# The source recorded on the gift, as the support form's links from this email always had.
UPGRADE_SOURCE = "upgrade-ask"


class UpgradeLinkError(ServiceError):
    """A link we did not sign, or one whose supporter is no longer here."""


@dataclass(frozen=True)
class UpgradeOffer:
    supporter: Supporter
    monthly_cents: int
    already_monthly: bool  # gives regularly already: nothing to start

    @property
    def choice(self) -> DonationChoice:
        return DonationChoice(
            amount_cents=self.monthly_cents,
            frequency=Frequency.MONTHLY,
            cover_fee=False,
            email=self.supporter.email,
            source_slug=UPGRADE_SOURCE,
        )


def gives_regularly(supporter_id: object) -> ColumnElement[bool]:
    return exists().where(Subscription.supporter_id == supporter_id, Subscription.status.in_(LIVE))


def _serializer(config: Config) -> URLSafeSerializer:
    return URLSafeSerializer(config.secret_key, salt=_SALT)


def upgrade_link(config: Config, supporter_id: int, monthly_cents: int) -> str:
    token = _serializer(config).dumps([supporter_id, monthly_cents])
    return f"{config.base_url.rstrip('/')}/support/monthly/{token}"


def upgrade_offer(session: Session, config: Config, token: str) -> UpgradeOffer:
    """What the link offers, read from its signature and our database (never from the query)."""
    try:
        data = _serializer(config).loads(token)
    except BadSignature:
        data = None
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in data)
    ):
        raise UpgradeLinkError("That link is not complete. Copy the whole link from the email.")
    supporter_id, monthly_cents = data
    supporter = session.get(Supporter, supporter_id)
    if supporter is None or supporter.email is None:
        raise UpgradeLinkError("That link no longer works. You can still give on our support page.")
    if not config.min_amount_cents <= monthly_cents <= config.max_amount_cents:
        raise UpgradeLinkError("That amount is no longer one we can accept.")
    already = session.scalar(select(gives_regularly(supporter_id)))
    return UpgradeOffer(supporter, monthly_cents, bool(already))
