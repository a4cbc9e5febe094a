"""Findings 1 and 9: nobody can lock a chosen person out of sign-in (limits are per address *and*
network; a global cap counts only emails actually sent; link requests never block passwords),
wrong passwords slow down their account progressively, and weak passwords are refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from helpers.accounts import ask_for_link, sign_in
from helpers.clients import csrf_token_from
from helpers.factories import BASE_TIME
from helpers.staff import make_staff
from membership.extensions import db
from membership.models import EmailMessage, StaffRole
from membership.services.sign_in import set_password

pytestmark = pytest.mark.usefixtures("app_context")

ATTACKER = "198.51.100.7"
ADMIN = "chief@newsroom.example"
PASSWORD = "a long phrase nobody guesses 42"


def password_sign_in(
    client: FlaskClient, email: str, password: str, ip: str = "127.0.0.1"
) -> TestResponse:
    page = client.get("/account/sign-in", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    return client.post(
        "/account/sign-in/password",
        data={"csrf_token": csrf_token_from(page), "email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def emails_to(address: str) -> int:
    db.session.expire_all()
    query = select(func.count()).where(
        EmailMessage.kind == "sign_in", EmailMessage.to_address == address
    )
    return db.session.scalar(query) or 0


@pytest.fixture
def admin_with_password(app_context: None) -> None:
    member = make_staff(StaffRole.ADMIN, ADMIN)

    member.password_hash = PasswordHasher().hash(PASSWORD)
    db.session.commit()


@pytest.mark.usefixtures("admin_with_password")
def test_link_requests_from_elsewhere_do_not_lock_the_admin_out(app: Flask) -> None:
    """The reproduction: 3 requests for the admin's address from one network made the admin's own
    link *and* password sign-in answer 429."""
    attacker = app.test_client()
    statuses = [ask_for_link(attacker, ADMIN, ip=ATTACKER).status_code for _ in range(4)]
    assert statuses[-1] == 429  # the attacker's network is limited for that address
    admin = app.test_client()
    assert ask_for_link(admin, ADMIN).status_code == 303
    assert password_sign_in(admin, ADMIN, PASSWORD).status_code == 303


@pytest.mark.usefixtures("admin_with_password")
def test_link_requests_never_block_password_sign_in_even_from_the_same_network(
    app: Flask,
) -> None:
    client = app.test_client()
    while ask_for_link(client, ADMIN).status_code != 429:
        pass
    assert password_sign_in(client, ADMIN, PASSWORD).status_code == 303


def test_emails_sent_to_one_address_have_a_global_cap_explained_alike_for_everyone(
    app_factory: Callable[..., Flask],
) -> None:
    """Requests from many networks send at most the cap of emails to one address; past it, the
    page says so, in words that do not depend on whether the address has an account."""
    app = app_factory(sign_in_emails_per_hour=3, sign_in_emails_per_day=5)
    with app.app_context():
        make_staff(StaffRole.ADMIN, ADMIN)
    client = app.test_client()
    pages = {}
    for address in (ADMIN, "nobody.here@example.org"):
        for n in range(5):
            response = ask_for_link(client, address, ip=f"203.0.113.{n + 1}")
            pages[address, n] = response
        with app.app_context():
            assert emails_to(address) == 3
    for address in (ADMIN, "nobody.here@example.org"):
        capped = pages[address, 4]
        assert capped.status_code == 429
        text = capped.get_data(as_text=True)
        assert "already emailed" in text and "password" in text
    normalise = lambda r: r.get_data(as_text=True).replace("nobody.here@example.org", ADMIN)  # noqa: E731
    assert (
        normalise(pages["nobody.here@example.org", 4]).split("<main")[1].split("csrf_token")[0]
        == normalise(pages[ADMIN, 4]).split("<main")[1].split("csrf_token")[0]
    )


# Finding 9: a progressive delay per account for wrong passwords


@pytest.mark.usefixtures("admin_with_password")
def test_wrong_passwords_slow_down_that_account_from_any_network(app: Flask) -> None:
    client = app.test_client()
    with time_machine.travel(BASE_TIME, tick=False) as clock:
        for n in range(3):  # a few slips are free
            ip = f"192.0.2.{n + 1}"
            assert password_sign_in(client, ADMIN, "wrong guess", ip=ip).status_code == 400
        # From now on the next try waits, and each further failure doubles the wait, whichever
        # network the guesses come from; the right password waits too.
        waited = []
        for n in range(4):
            refused = password_sign_in(client, ADMIN, PASSWORD, ip=f"192.0.2.{n + 20}")
            assert refused.status_code == 429
            said = refused.get_data(as_text=True)
            assert "emailed link" in said and refused.headers["Retry-After"]
            paused = re.search(r"paused for (\d+) seconds", said)
            assert paused is not None, said
            waited.append(int(paused.group(1)))
            clock.shift(timedelta(seconds=waited[-1]))
            assert (
                password_sign_in(client, ADMIN, "wrong guess", ip=f"192.0.2.{n + 10}").status_code
                == 400
            )
        clock.shift(timedelta(minutes=15))
        assert waited == sorted(waited) and waited[-1] >= 4 * waited[0]
        assert password_sign_in(client, ADMIN, PASSWORD, ip="192.0.2.99").status_code == 303
        # A right password clears the count.
        assert password_sign_in(client, ADMIN, "wrong guess", ip="192.0.2.98").status_code == 400
        assert password_sign_in(client, ADMIN, PASSWORD, ip="192.0.2.97").status_code == 303


def test_unknown_addresses_are_slowed_down_alike(app: Flask) -> None:
    client = app.test_client()
    with time_machine.travel(BASE_TIME, tick=False):
        for n in range(4):
            password_sign_in(client, "nobody@example.org", "guess", ip=f"192.0.2.{n + 1}")
        refused = password_sign_in(client, "nobody@example.org", "guess", ip="192.0.2.50")
    assert refused.status_code == 429


COMMON_LONG = next(p for p in FREQUENCY_LISTS["passwords"] if len(p) >= 12)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("elevenchars", "at least 12 characters"),
        (COMMON_LONG, "too common"),
        (COMMON_LONG.upper(), "too common"),
    ],
)
def test_short_and_common_passwords_are_refused_with_a_clear_message(
    client: FlaskClient, password: str, message: str
) -> None:
    sign_in(client, "pw@example.org")
    page = client.get("/account/preferences").get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={"csrf_token": csrf_token_from(page), "password": password, "confirm": password},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_the_service_refuses_weak_passwords_too(client: FlaskClient) -> None:
    from membership.models import Supporter
    from membership.services.sign_in import SignInError

    supporter = Supporter(email="svc@example.org", name="")
    db.session.add(supporter)
    db.session.flush()
    for weak in ("short", COMMON_LONG):
        with pytest.raises(SignInError):
            set_password(db.session(), supporter, weak)
    set_password(db.session(), supporter, "a long phrase nobody guesses")
