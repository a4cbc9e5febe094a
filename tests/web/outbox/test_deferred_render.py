"""Receipts are queued with their data and rendered by the worker: the same words as when the
webhook rendered them, in the delivered MIME and in the privacy export."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask

from helpers.factories import BASE_TIME, make_donation, make_supporter, only
from helpers.newsletter import deliver
from helpers.smtp_capture import SmtpCapture
from membership.config import Config
from membership.emails.deferred import message_bodies, render_deferred
from membership.emails.receipts import account_url, receipt_email
from membership.emails.render import compose_email
from membership.extensions import db
from membership.formatting import format_date, format_money
from membership.frequency import frequency_words
from membership.models import Donation, EmailMessage, EmailStatus, Frequency
from membership.services import notifications, privacy

pytestmark = pytest.mark.usefixtures("app_context")


def _rendered_in_the_webhook(
    config: Config, donation: Donation, frequency: Frequency
) -> tuple[str, str | None]:
    """How the webhook rendered a receipt before rendering moved to the worker."""

    def money(cents: int) -> str:
        return format_money(cents, donation.currency, locale=config.locale, always_cents=True)

    email = compose_email(
        config,
        "receipt",
        kind="receipt",
        to="reader@example.org",
        subject="-",
        donation=donation,
        gift=money(donation.amount_cents),
        fee=money(donation.fee_cents),
        total=money(donation.total_cents),
        date=format_date(donation.paid_at, config.zone),
        frequency=frequency_words(frequency).gift,
        account_url=account_url(config),
    )
    return email.text, email.html


@pytest.mark.parametrize("fee_cents", [0, 45])
@pytest.mark.parametrize("frequency", [Frequency.ONCE, Frequency.MONTHLY])
def test_a_deferred_receipt_renders_as_the_webhook_did(
    app: Flask, fee_cents: int, frequency: Frequency
) -> None:
    config: Config = app.config["MEMBERSHIP"]
    donation = make_donation(make_supporter(), amount_cents=1234, fee_cents=fee_cents)
    email = receipt_email(config, donation, to="reader@example.org", frequency=frequency)
    assert (email.text, email.html) == ("", None)
    assert email.render_data is not None
    text, html = render_deferred(email.render_data)
    assert (text, html) == _rendered_in_the_webhook(config, donation, frequency)
    assert donation.receipt_number in text and "$12.34" in text
    assert ("Fees covered" in text) is bool(fee_cents)


def test_the_worker_renders_the_receipt_when_it_sends_it(app: Flask, smtp: SmtpCapture) -> None:
    config: Config = app.config["MEMBERSHIP"]
    supporter = make_supporter("reader@example.org")
    donation = make_donation(supporter, amount_cents=500, fee_cents=20)
    assert notifications.queue_receipt(db.session(), donation, config)
    db.session.commit()
    queued = only(EmailMessage)
    assert queued.text_body == "" and queued.html_body is None  # nothing rendered in the webhook
    expected = _rendered_in_the_webhook(config, donation, Frequency.ONCE)
    assert message_bodies(queued) == expected

    assert deliver(smtp).sent == 1
    [mime] = smtp.messages
    plain = mime.get_body(preferencelist=("plain",))
    rich = mime.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None
    assert plain.get_content() == expected[0]
    assert rich.get_content() == expected[1]
    assert (
        mime["Subject"]
        == f"Your receipt from {config.publication_name} ({donation.receipt_number})"
    )
    db.session.expire_all()
    assert only(EmailMessage).status is EmailStatus.SENT


def test_the_privacy_export_shows_a_deferred_receipt_rendered(app: Flask) -> None:
    config: Config = app.config["MEMBERSHIP"]
    supporter = make_supporter("reader@example.org")
    donation = make_donation(supporter)
    notifications.queue_receipt(db.session(), donation, config)
    db.session.commit()
    now: datetime = BASE_TIME
    export = privacy.export_personal_data(db.session(), supporter, now=now)
    [row] = export["tables"]["email_message"]
    assert donation.receipt_number in row["text_body"]
    assert row["html_body"] is not None and donation.receipt_number in row["html_body"]
