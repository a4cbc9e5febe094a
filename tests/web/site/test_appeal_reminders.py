""" "Remind me later": one email 30 days on, consent recorded, no newsletter implied, a way to
cancel, and the address gone once it has served."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from helpers.clients import csrf_token_from
from helpers.factories import count, make_article, make_variant, only
from membership.models import AppealReminder, EmailMessage, Subscriber, utcnow
from membership.services.appeal_reminders import reminder_token

pytestmark = pytest.mark.usefixtures("app_context")


def ask(client: FlaskClient, **fields: str) -> object:
    page = client.get("/support/remind?source=story").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token_from(page),
        "email": "Later@Example.org",
        "consent": "y",
        "source": "story",
        "website": "",
    }
    data.update(fields)
    return client.post("/support/remind", data=data)


def send(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_one_reminder_after_thirty_days_then_the_address_is_gone(
    app: Flask, client: FlaskClient
) -> None:
    make_variant()
    make_article(slug="story")
    assert 'href="/support/remind?source=story">Remind me later</a>' in client.get(
        "/articles/story"
    ).get_data(as_text=True)
    done = ask(client)
    assert done.status_code == 200  # type: ignore[attr-defined]
    assert "One email, around" in done.get_data(as_text=True)  # type: ignore[attr-defined]
    assert ask(client).status_code == 200  # type: ignore[attr-defined]
    reminder = only(AppealReminder)
    assert (reminder.email, reminder.source) == ("later@example.org", "story")
    assert "not a newsletter sign-up" in reminder.consent_wording
    assert count(Subscriber) == 0
    assert "0 appeal reminder(s)" in send(app)
    with time_machine.travel(utcnow() + timedelta(days=30, minutes=1), tick=False):
        assert "1 appeal reminder(s)" in send(app)
        assert "0 appeal reminder(s)" in send(app)
    message = only(EmailMessage)
    assert message.to_address == "later@example.org"
    assert "/support" in message.text_body and "/support/remind/cancel/" in message.text_body
    assert "List-Unsubscribe" in message.headers
    reminder = only(AppealReminder)
    assert reminder.email is None and reminder.sent_at is not None
    assert reminder.consent_wording  # what they agreed to stays; who they were does not


def test_a_cancelled_reminder_is_never_sent(app: Flask, client: FlaskClient) -> None:
    ask(client)
    token = reminder_token(app.config["MEMBERSHIP"], only(AppealReminder).id)
    page = client.get(f"/support/remind/cancel/{token}")
    assert page.status_code == 200 and only(AppealReminder).email is not None
    response = client.post(
        f"/support/remind/cancel/{token}",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )
    assert response.status_code == 200
    assert only(AppealReminder).email is None
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        assert "0 appeal reminder(s)" in send(app)
    assert count(EmailMessage) == 0
    forged = client.post(
        "/support/remind/cancel/1.bad",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )
    assert forged.status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": ""}, "Enter your email address."),
        ({"email": "not-an-address"}, "like name@example.com"),
        ({"email": "x" * 300 + "@example.org"}, "too long"),
        ({"consent": ""}, "Tick the box"),
        ({"website": "http://spam.example"}, "Please check the highlighted answers"),
        ({"email": "<script>@example.org"}, "like name@example.com"),
    ],
)
def test_bad_requests_are_refused_with_a_message(
    client: FlaskClient, fields: dict[str, str], message: str
) -> None:
    response = ask(client, **fields)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert message in response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert count(AppealReminder) == 0
