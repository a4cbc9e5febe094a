"""The account's rules on their own, without an app or a request: what a gift page offers agrees
with what the actions allow, the pending-change bookkeeping, the amount field's spelling, and the
sign-in email composed with no Flask context at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import has_app_context
from hypothesis import given
from hypothesis import strategies as st

from membership.config import Config
from membership.currencies import currency
from membership.forms import amount_field_value, parse_amount
from membership.models import BillingInterval, Subscription, SubscriptionStatus
from membership.payments.gateway import StripeGateway
from membership.services import recurring_gifts
from membership.services.errors import PaymentUnavailable
from membership.services.recurring_gifts import (
    GiftChangeRefused,
    PendingChange,
    PendingState,
    recurring_gift,
    settle_pending,
)

NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)
# No Stripe key: any call that gets as far as Stripe fails with PaymentUnavailable, which tells
# "refused by our rules" (GiftChangeRefused) apart from "allowed, and Stripe was asked".
OFFLINE = StripeGateway(Config())


def subscription(
    *,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    interval: BillingInterval = BillingInterval.MONTH,
    paused: bool = False,
    ending: bool = False,
    subscription_id: int = 7,
) -> Subscription:
    return Subscription(
        id=subscription_id,
        stripe_subscription_id="sub_rules",
        supporter_id=1,
        amount_cents=500,
        fee_cents=0,
        currency="usd",
        interval=interval,
        status=status,
        current_period_end=NOW + timedelta(days=20),
        paused_until=NOW + timedelta(days=40) if paused else None,
        cancel_at_period_end=ending,
    )


def reaches_stripe(action: object) -> bool:
    """True when the action passed our rules and asked Stripe; False when our rules refused."""
    assert callable(action)
    try:
        action()
    except GiftChangeRefused:
        return False
    except PaymentUnavailable:
        return True
    raise AssertionError("the offline gateway cannot succeed")


@given(
    status=st.sampled_from(SubscriptionStatus),
    interval=st.sampled_from(BillingInterval),
    paused=st.booleans(),
    ending=st.booleans(),
)
def test_what_the_page_offers_is_exactly_what_the_actions_allow(
    status: SubscriptionStatus, interval: BillingInterval, paused: bool, ending: bool
) -> None:
    s = subscription(status=status, interval=interval, paused=paused, ending=ending)
    gift = recurring_gift(s)
    assert gift.can_pause is reaches_stripe(
        lambda: recurring_gifts.pause_gift(OFFLINE, s, months=1, now=NOW)
    )
    assert gift.can_resume is reaches_stripe(lambda: recurring_gifts.resume_gift(OFFLINE, s))
    assert gift.can_cancel is reaches_stripe(
        lambda: recurring_gifts.cancel_gift_at_period_end(OFFLINE, s)
    )
    assert gift.can_keep is reaches_stripe(lambda: recurring_gifts.keep_gift(OFFLINE, s))
    manageable = status in recurring_gifts.MANAGEABLE
    assert gift.manageable is manageable
    assert gift.can_pause is (manageable and interval is BillingInterval.MONTH and not paused)


def test_gift_words_follow_the_interval() -> None:
    monthly, annual = (recurring_gift(subscription(interval=i)) for i in BillingInterval)
    assert (monthly.words.per, monthly.period, monthly.frequency.value) == (
        "a month",
        "month",
        "monthly",
    )
    assert (annual.words.per, annual.period, annual.frequency.value) == ("a year", "year", "annual")


def test_a_pending_change_is_updating_then_late_and_forgotten_once_the_row_shows_it() -> None:
    s = subscription()
    change = PendingChange(s.id, {"amount_cents": 700, "fee_cents": 0, "interval": "month"})
    stored = {str(s.id): change.remembered(now=NOW), "999": {"expect": {}, "since": 0}}

    [gift], keep = settle_pending(stored, [recurring_gift(s)], now=NOW + timedelta(seconds=5))
    assert gift.pending is PendingState.UPDATING and gift.updating
    assert keep == stored  # another gift's change, not on this page, is kept too

    [gift], _ = settle_pending(stored, [recurring_gift(s)], now=NOW + timedelta(minutes=3))
    assert gift.pending is PendingState.LATE and gift.update_is_late and not gift.updating

    s.amount_cents = 700  # the webhook arrived
    [gift], keep = settle_pending(stored, [recurring_gift(s)], now=NOW + timedelta(seconds=5))
    assert gift.pending is None
    assert keep == {"999": stored["999"]}


def test_a_cancelled_gift_settles_whatever_was_pending() -> None:
    s = subscription(status=SubscriptionStatus.CANCELED)
    stored = {str(s.id): PendingChange(s.id, {"paused_until": 1}).remembered(now=NOW)}
    [gift], keep = settle_pending(stored, [recurring_gift(s)], now=NOW)
    assert gift.pending is None and keep == {}


@given(
    code=st.sampled_from(["usd", "eur", "jpy", "isk", "bhd"]),
    steps=st.integers(min_value=0, max_value=10**9),
)
def test_the_amount_field_reads_back_as_the_same_amount(code: str, steps: int) -> None:
    cents = steps * currency(code).step
    assert parse_amount(amount_field_value(cents, code), code) == cents


@pytest.mark.parametrize(
    ("cents", "code", "shown"),
    [
        (500, "usd", "5"),
        (1250, "usd", "12.50"),
        (1205, "eur", "12.05"),
        (1000, "jpy", "1000"),
        (100000, "isk", "1000"),
    ],
)
def test_the_amount_field_spells_whole_amounts_without_cents(
    cents: int, code: str, shown: str
) -> None:
    assert amount_field_value(cents, code) == shown


def test_the_sign_in_email_is_composed_without_flask() -> None:
    from membership.emails.sign_in import sign_in_email

    assert not has_app_context()
    config = Config(base_url="https://news.example/", publication_name="The <Observatory>")
    email = sign_in_email(config, to="reader@example.org", token="t0ken-abc_DEF123456789")
    link = "https://news.example/account/sign-in/t0ken-abc_DEF123456789"
    assert (email.kind, email.to) == ("sign_in", "reader@example.org")
    assert email.subject == "Your sign-in link for The <Observatory>"
    assert link in email.text and "10 minutes" in email.text
    assert email.html is not None and f'href="{link}"' in email.html
    assert "The &lt;Observatory&gt;" in email.html  # the HTML part escapes, the text part does not
    assert "The <Observatory>" in email.text
