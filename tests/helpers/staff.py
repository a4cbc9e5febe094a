"""Signing staff (and supporters) in for tests without the emailed link: the session the real
sign-in leaves behind, made directly.

A signed-in session is a server-side session row (`services.account_sessions`) whose id is in
the cookie, next to Flask-Login's user id. Flask-Login runs with session protection "strong": a
session is only accepted with the `_id` identifier of the browser it was made for (a hash of
remote address and User-Agent), so the helpers compute it for the client that will use it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier

from membership.auth import SESSION_ID_KEY
from membership.extensions import db
from membership.models import StaffMember, StaffRole, Supporter
from membership.services.account_sessions import open_session
from membership.services.staff.accounts import create_or_update_staff


def make_staff(role: StaffRole | str, email: str | None = None) -> StaffMember:
    value = StaffRole(role).value
    member = create_or_update_staff(
        db.session(), email=email or f"{value}@newsroom.example", role=value, name=value.title()
    )
    db.session.commit()
    return member


def staff_client(app: Flask, member: StaffMember | None = None) -> FlaskClient:
    client = app.test_client()
    if member is not None:
        sign_in_staff(client, member)
    return client


def _identifier(client: FlaskClient) -> str:
    with client.application.test_request_context("/", environ_base=client.environ_base):
        return str(_create_identifier())


def sign_in_staff(client: FlaskClient, member: StaffMember) -> None:
    """Make `client` a signed-in session of `member`."""
    _sign_in(client, member)


def sign_in_supporter(client: FlaskClient, supporter_id: int) -> None:
    supporter = db.session.get(Supporter, supporter_id)
    assert supporter is not None
    _sign_in(client, supporter)


def _server_session(app: Flask, account: StaffMember | Supporter) -> dict[str, object]:
    """What the cookie of a new signed-in session of `account` holds, bar the browser's `_id`."""
    token = open_session(
        db.session(), account, config=app.config["MEMBERSHIP"], now=datetime.now(UTC)
    )
    db.session.commit()
    return {"_user_id": account.get_id(), "_fresh": True, SESSION_ID_KEY: token}


def _sign_in(client: FlaskClient, account: StaffMember | Supporter) -> None:
    values = _server_session(client.application, account)
    identifier = _identifier(client)
    with client.session_transaction() as session:
        session.update(values)
        session["_id"] = identifier


def staff_session_cookie(app: Flask, member: StaffMember, user_agent: str) -> dict[str, str]:
    """A session cookie for a real browser with this User-Agent on 127.0.0.1 (Playwright)."""
    with app.test_request_context(
        "/", headers={"User-Agent": user_agent}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        identifier = _create_identifier()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    with app.app_context():
        # The member may be a plain object with the id alone (its database session is gone).
        account = db.session.get(StaffMember, member.id)
        assert account is not None
        values = _server_session(app, account)
    value = serializer.dumps({**values, "_id": identifier})
    return {"name": app.config.get("SESSION_COOKIE_NAME", "session"), "value": value}
