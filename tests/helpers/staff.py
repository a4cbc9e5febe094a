"""Signing staff in for tests. The one place that knows how: adapt it when the real sign-in lands.

Flask-Login runs with session protection "strong": a session is only accepted with the `_id`
identifier of the browser it was made for (a hash of remote address and User-Agent), so the
helpers compute it for the client that will use the session.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier

from membership.extensions import db
from membership.models import StaffMember, StaffRole
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
    _sign_in(client, f"staff:{member.id}")


def sign_in_supporter(client: FlaskClient, supporter_id: int) -> None:
    _sign_in(client, f"supporter:{supporter_id}")


def _sign_in(client: FlaskClient, user_id: str) -> None:
    identifier = _identifier(client)
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
        session["_id"] = identifier


def staff_session_cookie(app: Flask, member: StaffMember, user_agent: str) -> dict[str, str]:
    """A session cookie for a real browser with this User-Agent on 127.0.0.1 (Playwright)."""
    with app.test_request_context(
        "/", headers={"User-Agent": user_agent}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        identifier = _create_identifier()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    value = serializer.dumps({"_user_id": f"staff:{member.id}", "_fresh": True, "_id": identifier})
    return {"name": app.config.get("SESSION_COOKIE_NAME", "session"), "value": value}
