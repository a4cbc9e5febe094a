"""Finding 2: a signed-in session lives on the server too, so signing out ends it wherever its
cookie went; staff sessions end after 30 minutes idle and 12 hours in all; deactivating staff or
changing their role ends their sessions; the staff header offers both ways of signing out."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from helpers.accounts import sign_in
from helpers.clients import csrf_token_from
from helpers.factories import BASE_TIME
from helpers.staff import make_staff
from membership.extensions import db
from membership.models import StaffMember, StaffRole
from membership.services.staff.accounts import change_staff

pytestmark = pytest.mark.usefixtures("app_context")

COOKIE = "session"


def copy_of(app: Flask, client: FlaskClient, ip: str = "203.0.113.9") -> FlaskClient:
    """Another browser, elsewhere, holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.environ_base["REMOTE_ADDR"] = ip
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def sign_out(client: FlaskClient, page: str, everywhere: bool = False) -> None:
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    path = "/account/sign-out-everywhere" if everywhere else "/account/sign-out"
    assert client.post(path, data={"csrf_token": token}).status_code == 303


def test_a_copied_cookie_stops_working_when_its_owner_signs_out(app: Flask) -> None:
    """The reproduction: after sign-out, a copy of the cookie kept working (31 days, any IP)."""
    owner = app.test_client()
    sign_in(owner, "reader@example.org")
    thief = copy_of(app, owner)
    assert thief.get("/account").status_code == 200  # the same session, while it lasts
    sign_out(owner, "/account")
    assert owner.get("/account").status_code == 302
    assert thief.get("/account").status_code == 302


def test_a_copied_staff_cookie_stops_working_when_its_owner_signs_out(app: Flask) -> None:
    make_staff(StaffRole.ADMIN, "chief@newsroom.example")
    owner = app.test_client()
    sign_in(owner, "chief@newsroom.example")
    same_place = copy_of(app, owner, ip="127.0.0.1")
    assert same_place.get("/staff").status_code == 200
    sign_out(owner, "/staff")
    assert same_place.get("/staff").status_code == 302


def test_the_staff_header_offers_sign_out_and_sign_out_everywhere(app: Flask) -> None:
    make_staff(StaffRole.EDITOR, "ed@newsroom.example")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "ed@newsroom.example")
    sign_in(phone, "ed@newsroom.example")
    header = laptop.get("/staff").get_data(as_text=True)
    assert 'action="/account/sign-out"' in header
    assert 'action="/account/sign-out-everywhere"' in header
    sign_out(laptop, "/staff", everywhere=True)
    assert laptop.get("/staff").status_code == 302
    assert phone.get("/staff").status_code == 302


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(BASE_TIME, tick=False) as traveller:
        yield traveller


def test_staff_sessions_end_after_30_idle_minutes(app: Flask, clock) -> None:  # type: ignore[no-untyped-def]
    make_staff(StaffRole.FINANCE, "fin@newsroom.example")
    client = app.test_client()
    sign_in(client, "fin@newsroom.example")
    for _ in range(3):  # working keeps the session alive
        clock.shift(timedelta(minutes=25))
        assert client.get("/staff").status_code == 200
    clock.shift(timedelta(minutes=31))
    assert client.get("/staff").status_code == 302


def test_staff_sessions_end_after_12_hours_however_busy(app: Flask, clock) -> None:  # type: ignore[no-untyped-def]
    make_staff(StaffRole.FINANCE, "fin@newsroom.example")
    client = app.test_client()
    sign_in(client, "fin@newsroom.example")
    for _ in range(12 * 3 - 1):
        clock.shift(timedelta(minutes=20))
        assert client.get("/staff").status_code == 200
    clock.shift(timedelta(minutes=21))
    assert client.get("/staff").status_code == 302


def test_supporter_sessions_are_not_cut_at_30_minutes(app: Flask, clock) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, "reader@example.org")
    clock.shift(timedelta(hours=13))
    assert client.get("/account").status_code == 200


def _member(email: str) -> StaffMember:
    member = db.session.query(StaffMember).filter_by(email=email).one()
    return member


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app: Flask) -> None:
    """The reproduction: deactivating then reactivating a member revived their old cookies."""
    admin = make_staff(StaffRole.ADMIN, "chief@newsroom.example")
    make_staff(StaffRole.EDITOR, "ed@newsroom.example")
    client = app.test_client()
    sign_in(client, "ed@newsroom.example")
    assert client.get("/staff/articles").status_code == 200
    change_staff(db.session(), admin, _member("ed@newsroom.example"), role="editor", active=False)
    db.session.commit()
    assert client.get("/staff/articles").status_code == 302
    change_staff(db.session(), admin, _member("ed@newsroom.example"), role="editor", active=True)
    db.session.commit()
    assert client.get("/staff/articles").status_code == 302


def test_a_role_change_ends_that_persons_sessions(app: Flask) -> None:
    """The reproduction: a finance member made editor kept a session with the old role."""
    admin = make_staff(StaffRole.ADMIN, "chief@newsroom.example")
    make_staff(StaffRole.FINANCE, "fin@newsroom.example")
    client, other = app.test_client(), app.test_client()
    sign_in(client, "fin@newsroom.example")
    sign_in(other, "chief@newsroom.example")
    assert client.get("/staff/reports").status_code == 200
    change_staff(db.session(), admin, _member("fin@newsroom.example"), role="editor", active=True)
    db.session.commit()
    assert client.get("/staff/reports").status_code == 302
    assert other.get("/staff").status_code == 200  # only that person's sessions end
