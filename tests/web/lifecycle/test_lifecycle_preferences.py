"""The account page's switches for lifecycle email: declined groups get nothing; switching back
on brings them again; an email's own unsubscribe link shows there too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from helpers.clients import csrf_token_from
from helpers.factories import make_donation, make_supporter
from helpers.lifecycle import run_and_deliver
from helpers.smtp_capture import SmtpCapture
from helpers.staff import sign_in_supporter
from membership.extensions import db
from membership.models import LifecycleOptOut, utcnow

pytestmark = pytest.mark.usefixtures("app_context")


def save(client: object, **switches: str) -> int:
    page = client.get("/account/preferences").get_data(as_text=True)  # type: ignore[attr-defined]
    data = {"csrf_token": csrf_token_from(page), "receipts": "y", **switches}
    return int(client.post("/account/preferences", data=data).status_code)  # type: ignore[attr-defined]


def declined(supporter_id: int) -> set[str]:
    db.session.expire_all()
    return {
        row.kind_group
        for row in db.session.query(LifecycleOptOut).filter_by(supporter_id=supporter_id)
    }


def test_switches_on_the_account_page(app: Flask, smtp: SmtpCapture) -> None:
    supporter = make_supporter("self@example.org")
    client = app.test_client()
    sign_in_supporter(client, supporter.id)
    page = client.get("/account/preferences").get_data(as_text=True)
    # Both on by default.
    assert '<input checked id="giving_notes"' in page
    assert '<input checked id="payment_notices"' in page

    assert save(client, payment_notices="y") == 303
    assert declined(supporter.id) == {"welcome", "upgrade_ask", "win_back", "year_in_review"}
    make_donation(supporter, paid_at=utcnow() - timedelta(hours=1))
    assert run_and_deliver(smtp, utcnow()) == []

    assert save(client, payment_notices="y", giving_notes="y") == 303
    assert declined(supporter.id) == set()
    [welcome] = run_and_deliver(smtp, utcnow())
    assert welcome["Subject"] == "Welcome to The Observatory"

    assert save(client, giving_notes="y") == 303
    assert declined(supporter.id) == {"dunning", "card_expiring"}
