"""Helpers for account tests: asking for a sign-in link, reading it, following it."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from helpers.clients import csrf_token_from
from membership.extensions import db
from membership.models import EmailMessage

LINK_RE = re.compile(r"http://[^\s\"<>]+/account/sign-in/([A-Za-z0-9_-]{20,})")


def ask_for_link(
    client: FlaskClient, email: str, *, next_path: str = "", ip: str = "127.0.0.1"
) -> TestResponse:
    page = client.get("/account/sign-in", environ_base={"REMOTE_ADDR": ip})
    return client.post(
        "/account/sign-in",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "email": email,
            "next": next_path,
        },
        environ_base={"REMOTE_ADDR": ip},
    )


def latest_token(address: str) -> str:
    """The token in the newest sign-in email queued for `address` (what the reader receives)."""
    db.session.expire_all()
    message = db.session.scalar(
        select(EmailMessage)
        .where(EmailMessage.kind == "sign_in", EmailMessage.to_address == address)
        .order_by(EmailMessage.id.desc())
        .limit(1)
    )
    assert message is not None, f"no sign-in email to {address}"
    match = LINK_RE.search(message.text_body)
    assert match, message.text_body
    assert match.group(0) in (message.html_body or "")
    return match.group(1)


def confirm(client: FlaskClient, token: str) -> TestResponse:
    page = client.get(f"/account/sign-in/{token}")
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(
        f"/account/sign-in/{token}",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )


def sign_in(client: FlaskClient, email: str, *, next_path: str = "") -> TestResponse:
    assert ask_for_link(client, email, next_path=next_path).status_code == 303
    return confirm(client, latest_token(email.strip().lower()))


def signed_in_id(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        value = session.get("_user_id")
    return value if isinstance(value, str) else None
