"""Lifecycle email for staff: each kind's switch and Markdown copy (unknown placeholders refused,
by name; previews with a sample supporter), its results page, and the supporter's record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.clients import csrf_token_from
from helpers.factories import count, make_donation, make_supporter
from helpers.lifecycle import TRACKED, path_of, run_and_deliver, text_of
from helpers.smtp_capture import SmtpCapture
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import AuditEntry, DonationKind, LifecycleSetting, StaffRole

pytestmark = pytest.mark.usefixtures("app_context")

GIFT = datetime(2027, 2, 1, 10, tzinfo=UTC)


def editor(app: Flask) -> FlaskClient:
    return staff_client(app, make_staff(StaffRole.EDITOR))


def post_copy(client: FlaskClient, kind: str, **fields: str) -> tuple[int, str]:
    page = client.get(f"/staff/lifecycle/{kind}").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "enabled": "y", **fields}
    if not data["enabled"]:
        del data["enabled"]
    response = client.post(f"/staff/lifecycle/{kind}", data=data, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def test_unknown_placeholders_are_refused_on_save_by_name(app: Flask) -> None:
    client = editor(app)
    status, page = post_copy(
        client,
        "welcome",
        subject="Hello {first_name}",
        body="Thanks for {amount}, {frist_name}. Your {tier} and {frist_name} again.",
    )
    assert status == 400
    assert "Unknown placeholders {frist_name}, {tier}." in page
    assert "{first_name}" in page  # the ones it can use are listed
    assert count(LifecycleSetting) == 0 and count(AuditEntry) == 0


def test_bad_copy_is_refused_with_a_message(app: Flask) -> None:
    client = editor(app)
    assert post_copy(client, "welcome", subject="", body="Hi")[0] == 400
    assert post_copy(client, "welcome", subject="Hi", body="x" * 20_001)[0] == 400
    assert post_copy(client, "welcome", subject="Hi {", body="{}")[0] == 400
    assert client.get("/staff/lifecycle/no-such-kind").status_code == 404


def test_preview_renders_with_a_sample_supporter_without_saving(app: Flask) -> None:
    client = editor(app)
    page = client.get("/staff/lifecycle/upgrade_ask").get_data(as_text=True)
    response = client.post(
        "/staff/lifecycle/upgrade_ask",
        data={
            "csrf_token": csrf_token_from(page),
            "enabled": "y",
            "subject": "{first_name}, {monthly_amount} a month?",
            "body": "Dear {first_name}, *thank you* for {amount}. [Go]({monthly_link})",
            "action": "preview",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ada, $5.00 a month?" in html
    assert "<em>thank you</em> for $25.00" in html
    assert count(LifecycleSetting) == 0


def test_a_kind_switched_off_sends_nothing_and_on_again_sends(
    app: Flask, smtp: SmtpCapture
) -> None:
    client = editor(app)
    status, page = post_copy(
        client,
        "welcome",
        enabled="",
        subject="Welcome, {first_name}",
        body="Thank you for {amount}.",
    )
    assert status == 200 and "“Welcome” is off" in page
    supporter = make_supporter("new@example.org", name="Grace Hopper")
    make_donation(supporter, amount_cents=1000, paid_at=GIFT)
    assert run_and_deliver(smtp, GIFT + timedelta(hours=1)) == []

    assert (
        post_copy(client, "welcome", subject="Welcome, {first_name}", body="For {amount}.")[0]
        == 200
    )
    [mail] = run_and_deliver(smtp, GIFT + timedelta(hours=2))
    assert mail["Subject"] == "Welcome, Grace"
    assert "For $10." in text_of(mail)
    assert count(AuditEntry) == 2


def test_kind_page_counts_sent_opened_and_converted_from_money(
    app: Flask, client: FlaskClient, smtp: SmtpCapture
) -> None:
    asked = make_supporter("asked@example.org")
    ignored = make_supporter("ignored@example.org")
    for supporter in (asked, ignored):
        make_donation(supporter, amount_cents=2500, paid_at=GIFT)
    due = GIFT + timedelta(days=30, hours=1)
    mails = run_and_deliver(smtp, due)
    asks = [m for m in mails if str(m["Subject"]).startswith("Would you")]
    assert len(asks) == 2
    # Both follow the link; only one gives monthly: converted counts money, not clicks.
    for mail in asks:
        link = TRACKED.search(text_of(mail))
        assert link is not None
        assert client.get(path_of(link.group(0))).status_code == 303
    make_donation(
        asked, amount_cents=500, paid_at=due + timedelta(days=2), kind=DonationKind.RECURRING
    )

    page = staff_client(app, make_staff(StaffRole.FINANCE)).get("/staff/lifecycle/upgrade_ask")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    cells = html.split('id="kind-results"')[1].split("</table>")[0]
    assert [c.split("<")[0] for c in cells.split('<td class="num">')[1:]] == [
        "2",
        "0",
        "0",
        "2",
        "1",
    ]
    # Finance sees results and the copy, but only editors change it.
    assert 'name="action" value="save"' not in html
    index = staff_client(app, make_staff(StaffRole.FINANCE, "f2@newsroom.example")).get(
        "/staff/lifecycle"
    )
    assert "Upgrade ask" in index.get_data(as_text=True)


def test_the_supporters_page_lists_their_lifecycle_messages(app: Flask, smtp: SmtpCapture) -> None:
    supporter = make_supporter("listed@example.org")
    make_donation(supporter, amount_cents=2500, paid_at=GIFT)
    run_and_deliver(smtp, GIFT + timedelta(hours=1))
    finance = staff_client(app, make_staff(StaffRole.FINANCE))
    html = finance.get(f"/staff/supporters/{supporter.id}").get_data(as_text=True)
    table = html.split('id="lifecycle-table"')[1].split("</table>")[0]
    assert "Welcome" in table and "sent" in table
    db.session.remove()
