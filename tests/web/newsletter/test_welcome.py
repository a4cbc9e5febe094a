"""The welcome email on confirmation: staff's copy, once per address, with the newsletter's
unsubscribe link; switched off, none."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.clients import csrf_token_from
from helpers.lifecycle import text_of
from helpers.newsletter import (
    UNSUBSCRIBE_LINK,
    confirm_link_in,
    deliver,
    path_of,
    subscribe,
    subscriber,
)
from helpers.smtp_capture import SmtpCapture
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import StaffRole, utcnow
from membership.services.newsletter.welcome import queue_newsletter_welcome

pytestmark = pytest.mark.usefixtures("app_context")


def sign_up_and_confirm(client: FlaskClient, smtp: SmtpCapture, address: str) -> str:
    before = len(smtp.messages)
    subscribe(client, address)
    deliver(smtp)
    link = confirm_link_in(text_of(smtp.messages[before]))
    follow(client, smtp, link)
    return link


def follow(client: FlaskClient, smtp: SmtpCapture, link: str) -> None:
    page = client.get(path_of(link)).get_data(as_text=True)
    assert client.post(path_of(link), data={"csrf_token": csrf_token_from(page)}).status_code == 303
    deliver(smtp)


def test_confirming_brings_the_welcome_once(
    app: Flask, client: FlaskClient, smtp: SmtpCapture
) -> None:
    editor = staff_client(app, make_staff(StaffRole.EDITOR))
    page = editor.get("/staff/lifecycle/newsletter_welcome").get_data(as_text=True)
    saved = editor.post(
        "/staff/lifecycle/newsletter_welcome",
        data={
            "csrf_token": csrf_token_from(page),
            "enabled": "y",
            "subject": "Hello from {newsletter_name}",
            "body": "Glad you're here. {publication_name} thanks you.",
        },
    )
    assert saved.status_code == 303
    link = sign_up_and_confirm(client, smtp, "new@example.org")
    welcome = smtp.messages[-1]
    assert welcome["Subject"] == "Hello from The Observatory Weekly"
    assert "The Observatory thanks you." in text_of(welcome)
    assert UNSUBSCRIBE_LINK.search(str(welcome["List-Unsubscribe"]))
    # Confirming again (the same link, later) sends nothing more.
    # Already confirmed: the link's page says so, and the welcome is not queued twice.
    assert "subscribed" in client.get(path_of(link)).get_data(as_text=True)
    assert not queue_newsletter_welcome(
        db.session(), app.config["MEMBERSHIP"], subscriber("new@example.org"), now=utcnow()
    )


def test_switched_off_there_is_no_welcome(
    app: Flask, client: FlaskClient, smtp: SmtpCapture
) -> None:
    editor = staff_client(app, make_staff(StaffRole.EDITOR))
    page = editor.get("/staff/lifecycle/newsletter_welcome").get_data(as_text=True)
    editor.post(
        "/staff/lifecycle/newsletter_welcome",
        data={"csrf_token": csrf_token_from(page), "subject": "Hi", "body": "Hello."},
    )
    sign_up_and_confirm(client, smtp, "quiet@example.org")
    assert [m["Subject"] for m in smtp.messages][-1].startswith("Please confirm")
