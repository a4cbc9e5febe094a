"""The newsletter seen from a supporter's account: the toggle, the export and the erasure."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.accounts import sign_in
from helpers.clients import csrf_token_from
from helpers.factories import count, make_supporter
from membership.extensions import db
from membership.models import ConsentEvent, ConsentKind, Subscriber, SubscriberStatus

pytestmark = pytest.mark.usefixtures("app_context")


def save_preferences(client: FlaskClient, **fields: str) -> None:
    page = client.get("/account/preferences").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), **fields}
    assert client.post("/account/preferences", data=data).status_code == 303


def newsletter_box_checked(client: FlaskClient) -> bool:
    page = client.get("/account/preferences").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="newsletter"[^>]*>', page)
    assert box is not None
    return "checked" in box.group(0)


def test_supporter_switches_the_newsletter_on_and_off_with_a_consent_record_each_time(
    client: FlaskClient,
) -> None:
    supporter = make_supporter("reader@example.org")
    sign_in(client, "reader@example.org")
    assert not newsletter_box_checked(client)
    save_preferences(client, receipts="y", newsletter="y")
    db.session.expire_all()
    subscriber = db.session.scalar(select(Subscriber))
    assert subscriber is not None
    assert (subscriber.status, subscriber.supporter_id) == (
        SubscriberStatus.CONFIRMED,
        supporter.id,
    )
    assert (
        "checked"
        in client.get("/account/preferences")
        .get_data(as_text=True)
        .split('name="newsletter"')[0][-40:]
        + client.get("/account/preferences")
        .get_data(as_text=True)
        .split('name="newsletter"')[1][:30]
    )
    save_preferences(client, receipts="y", newsletter="y")  # unchanged: no new ledger line
    save_preferences(client, receipts="y")  # off
    db.session.expire_all()
    assert db.session.scalar(select(Subscriber.status)) is SubscriberStatus.UNSUBSCRIBED
    kinds = [e.kind for e in db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]
    assert kinds == [ConsentKind.CONFIRM, ConsentKind.UNSUBSCRIBE]


def test_export_and_erasure_cover_the_newsletter_rows(client: FlaskClient) -> None:
    make_supporter("reader@example.org")
    make_supporter("other@example.org")
    sign_in(client, "reader@example.org")
    save_preferences(client, newsletter="y")
    other = client.application.test_client()
    sign_in(other, "other@example.org")
    save_preferences(other, newsletter="y")
    exported = json.loads(client.get("/account/data.json").get_data(as_text=True))
    tables = exported["tables"]
    assert [row["email"] for row in tables["subscriber"]] == ["reader@example.org"]
    assert len(tables["consent_event"]) == 1
    page = client.get("/account/delete").get_data(as_text=True)
    response = client.post(
        "/account/delete", data={"csrf_token": csrf_token_from(page), "confirm": "y"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert [s.email for s in db.session.scalars(select(Subscriber))] == ["other@example.org"]
    assert count(ConsentEvent) == 1
