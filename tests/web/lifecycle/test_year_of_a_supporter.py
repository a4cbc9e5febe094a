"""Done when: the clock moves through a year of one supporter's life and each lifecycle email
arrives once, on its day, through a real SMTP server; none after unsubscribing from that kind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.factories import make_donation, make_supporter
from helpers.lifecycle import (
    TRACKED,
    UNSUBSCRIBE,
    make_subscription,
    path_of,
    run_and_deliver,
    text_of,
)
from helpers.smtp_capture import SmtpCapture
from membership.extensions import db
from membership.models import (
    DonationKind,
    LifecycleMessage,
    Subscription,
    SubscriptionStatus,
    Supporter,
)
from membership.payments.objects import CardExpiry
from membership.services.lifecycle.dunning import mark_renewal_paid, record_failed_renewal

pytestmark = pytest.mark.usefixtures("app_context")

RUN_AT = 12  # the job runs daily at noon (UTC, the test app's zone)
FIRST_DAY, LAST_DAY = date(2027, 1, 20), date(2028, 5, 31)


def at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def days(start: date, end: date) -> Iterator[date]:
    while start <= end:
        yield start
        start += timedelta(days=1)


def card_expires_november_2027(subscription_id: str) -> CardExpiry:
    return CardExpiry(subscription_id, 11, 2027)


class Life:
    """One supporter's year: what happens on which day (before the noon run)."""

    def __init__(self, supporter: Supporter) -> None:
        self.supporter = supporter
        self.subscription: Subscription | None = None

    def renew(self, day: date) -> None:
        assert self.subscription is not None
        make_donation(
            self.supporter, amount_cents=500, paid_at=at(day, 9), kind=DonationKind.RECURRING
        )

    def fail(self, day: date, invoice: str) -> None:
        subscription = self._subscription(SubscriptionStatus.PAST_DUE)
        record_failed_renewal(
            db.session(),
            subscription,
            invoice_id=invoice,
            fix_url=f"https://invoice.stripe.test/{invoice}",
            config=current_app.config["MEMBERSHIP"],
            now=at(day),
        )
        db.session.commit()

    def recover(self, day: date, invoice: str) -> None:
        self._subscription(SubscriptionStatus.ACTIVE)
        mark_renewal_paid(db.session(), invoice, now=at(day))
        db.session.commit()
        self.renew(day)

    def stripe_cancels(self, day: date) -> None:
        subscription = self._subscription(SubscriptionStatus.CANCELED)
        subscription.canceled_at = subscription.ended_at = at(day)
        db.session.commit()

    def gives_monthly(self) -> bool:
        return (
            self.subscription is not None
            and self.subscription.status is not SubscriptionStatus.CANCELED
        )

    def _subscription(self, status: SubscriptionStatus) -> Subscription:
        assert self.subscription is not None
        subscription = db.session.get(Subscription, self.subscription.id)
        assert subscription is not None
        subscription.status = status
        db.session.flush()
        return subscription

    def on(self, day: date, client: FlaskClient) -> None:
        if day == date(2027, 2, 1):
            make_donation(self.supporter, amount_cents=2500, paid_at=at(day, 10))
        if day == date(2027, 3, 10):
            self.subscription = make_subscription(self.supporter, started_at=at(day, 9))
            self.renew(day)
        elif day.day == 10 and day not in FAILS and self.gives_monthly():
            self.renew(day)
        if day in FAILS:
            self.fail(day, FAILS[day])
        if day == date(2027, 6, 15):
            self.recover(day, "in_june")
        if day == date(2028, 2, 25):
            self.stripe_cancels(day)


FAILS = {date(2027, 6, 10): "in_june", date(2028, 2, 10): "in_february"}

EXPECTED = [
    (date(2027, 2, 1), "Welcome to The Observatory"),
    (date(2027, 3, 3), "Would you give $5 a month?"),
    (date(2027, 6, 10), "Your gift to The Observatory did not go through"),
    (date(2027, 6, 13), "A reminder: your gift of $5 is still unpaid"),
    # Paid on 15 June: no day-7 message.
    (date(2027, 10, 1), "Your card expires at the end of next month"),
    (date(2028, 1, 1), "Your 2027 with The Observatory"),
    (date(2028, 2, 10), "Your gift to The Observatory did not go through"),
    (date(2028, 2, 13), "A reminder: your gift of $5 is still unpaid"),
    (date(2028, 2, 17), "Last reminder: your gift to The Observatory"),
    (date(2028, 2, 25), "Your recurring gift to The Observatory has stopped"),
    (date(2028, 4, 25), "We miss you at The Observatory"),
]


def live_a_year(
    client: FlaskClient, smtp: SmtpCapture, life: Life, *, on_mail: object = None
) -> list[tuple[date, str]]:
    arrived: list[tuple[date, str]] = []
    for day in days(FIRST_DAY, LAST_DAY):
        life.on(day, client)
        for message in run_and_deliver(smtp, at(day, RUN_AT), card_expires_november_2027):
            assert message["To"] == "ada@example.org"
            arrived.append((day, str(message["Subject"])))
            if callable(on_mail):
                on_mail(day, message)
    return arrived


def test_each_email_of_a_year_arrives_once_on_its_day(
    client: FlaskClient, smtp: SmtpCapture
) -> None:
    life = Life(make_supporter("ada@example.org", name="Ada Lovelace"))
    bodies: dict[str, str] = {}

    def keep(day: date, message: object) -> None:
        bodies[str(message["Subject"])] = text_of(message)  # type: ignore[index,arg-type]

    assert live_a_year(client, smtp, life, on_mail=keep) == EXPECTED

    # Each carries its own kind's unsubscribe link, in the body and as one-click headers.
    for message in smtp.messages:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert UNSUBSCRIBE.search(message["List-Unsubscribe"])
    assert "Dear Ada," in bodies["Welcome to The Observatory"]
    assert "$25" in bodies["Welcome to The Observatory"]
    # January: last year's total (the $25 gift and ten monthly $5 payments) and the statement.
    review = bodies["Your 2027 with The Observatory"]
    assert "you gave $75 to The Observatory" in review

    # The upgrade ask's link opens, through our signed redirect (which notes that the link was
    # opened), a page whose one button starts Checkout for $5 a month.
    ask = bodies["Would you give $5 a month?"]
    link = TRACKED.search(ask)
    assert link, ask
    response = client.get(path_of(link.group(0)))
    assert response.status_code == 303
    assert "/support/monthly/" in response.headers["Location"]
    offer = client.get(path_of(response.headers["Location"]))
    assert offer.status_code == 200
    assert b"Continue to payment: $5 a month" in offer.data
    opened = db.session.scalars(
        select(LifecycleMessage).where(LifecycleMessage.link_opened_at.is_not(None))
    ).all()
    assert [m.kind for m in opened] == ["upgrade_ask"]

    # Running again on each of those days, later the same day, sends nothing: every
    # (supporter, kind, period) was used.
    before = len(smtp.messages)
    for day, _subject in EXPECTED:
        assert run_and_deliver(smtp, at(day, RUN_AT + 6), card_expires_november_2027) == []
    assert len(smtp.messages) == before


def test_no_email_of_a_kind_after_unsubscribing_from_it(
    client: FlaskClient, smtp: SmtpCapture
) -> None:
    life = Life(make_supporter("ada@example.org", name="Ada Lovelace"))

    def unsubscribe_from(day: date, message: object) -> None:
        subject = str(message["Subject"])  # type: ignore[index]
        if day == date(2027, 6, 10):
            # One-click, as a mail provider does it, from the first failed-payment email.
            url = UNSUBSCRIBE.search(message["List-Unsubscribe"]).group(0)  # type: ignore[index,union-attr]
            response = client.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 200, subject
        if subject.startswith("Would you give"):
            # The page and its button, as a reader does it, from the upgrade ask's footer.
            url = UNSUBSCRIBE.search(text_of(message)).group(0)  # type: ignore[arg-type,union-attr]
            page = client.get(path_of(url))
            assert b"invitations to give monthly" in page.data
            assert client.post(path_of(url)).status_code == 200
            assert b"You are unsubscribed" in client.get(path_of(url)).data

    arrived = live_a_year(client, smtp, life, on_mail=unsubscribe_from)
    # No more failed-payment emails at all (the dunning steps are one kind for the reader);
    # every other kind still arrives.
    assert arrived == [
        (day, subject)
        for day, subject in EXPECTED
        if day == date(2027, 6, 10) or ("gift" not in subject and "unpaid" not in subject)
    ]
