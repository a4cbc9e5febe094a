"""Rate limits that hold: with the limit storage unreachable (Redis on a closed port), the three
forms that card testers and mail bombers use fail closed with a 503 and record nothing, while
reading pages answer as usual."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpers.accounts import ask_for_link
from helpers.factories import make_article, make_variant
from helpers.live_server import free_port
from helpers.newsletter import subscribe
from helpers.payments import give
from membership.extensions import db
from membership.models import DonationIntent, EmailMessage, Subscriber


@pytest.fixture
def redis_down(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    # Nothing listens on a port just found free: every connection is refused at once.
    app = app_factory(ratelimit_storage_uri=f"redis://127.0.0.1:{free_port()}/0")
    with app.app_context():
        make_variant()
        make_article(slug="harbour", body="The harbour reopened.")
    yield app


def _count(model: type) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_support_form_fails_closed_and_records_nothing(redis_down: Flask) -> None:
    client = redis_down.test_client()
    response = give(client, amount="100")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Nothing was sent or saved" in page
    with redis_down.app_context():
        assert _count(DonationIntent) == 0


def test_sign_in_and_newsletter_fail_closed(redis_down: Flask) -> None:
    client = redis_down.test_client()
    assert ask_for_link(client, "reader@example.org").status_code == 503
    assert subscribe(client, "reader@example.org").status_code == 503
    with redis_down.app_context():
        assert _count(EmailMessage) == 0
        assert _count(Subscriber) == 0


def test_reading_pages_do_not_depend_on_the_limit_storage(redis_down: Flask) -> None:
    client: FlaskClient = redis_down.test_client()
    for path in ("/", "/articles/harbour", "/support", "/account/sign-in", "/newsletter"):
        assert client.get(path).status_code == 200, path
    assert client.get("/api/banner").status_code == 200


def test_the_same_forms_work_when_the_storage_answers(client: FlaskClient) -> None:
    # The control: memory:// storage, the same request goes through to Stripe's stand-in.
    assert give(client, amount="100").status_code == 303
