"""Signing in: emailed links (single use, 10 minutes, hashed, bound to the browser), passwords,
sign-out everywhere, safe `next`, no account enumeration, rate limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from helpers.accounts import (
    ask_for_link,
    confirm,
    latest_token,
    sign_in,
    signed_in_id,
)
from helpers.clients import csrf_token_from
from helpers.factories import count, make_donation, make_supporter
from membership.extensions import db
from membership.models import EmailMessage, SignInToken, StaffMember, StaffRole, Supporter, utcnow
from membership.services.sign_in import hash_secret
from membership.services.staff.accounts import create_or_update_staff

pytestmark = pytest.mark.usefixtures("app_context")


# Asking for a link


def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(
    app: Flask,
) -> None:
    make_supporter("known@example.org")
    answers = []
    for address in ("known@example.org", "nobody@example.org"):
        client = app.test_client()
        response = ask_for_link(client, address)
        assert response.status_code == 303
        assert response.headers["Location"] == "/account/sign-in/sent"
        page = client.get("/account/sign-in/sent")
        assert page.status_code == 200
        answers.append(page.get_data(as_text=True).replace(address, "ADDRESS"))
    assert answers[0] == answers[1]
    # The same work for both: a token row and one queued email each, so timing says nothing.
    assert count(SignInToken) == 2
    assert count(EmailMessage) == 2
    # Nobody was created for the unknown address by merely asking.
    assert (
        db.session.scalar(select(Supporter).where(Supporter.email == "nobody@example.org")) is None
    )


def test_token_is_stored_only_as_its_hash(client: FlaskClient) -> None:
    ask_for_link(client, "hash@example.org")
    token = latest_token("hash@example.org")
    row = db.session.scalar(select(SignInToken))
    assert row is not None
    assert row.token_hash == hash_secret(token) and token not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(minutes=10)
    assert row.browser_hash and len(row.browser_hash) == 64


def test_invalid_addresses_are_a_400_with_a_message(client: FlaskClient) -> None:
    for bad in ("", "not-an-address", "a@b", "<script>@x.org", "x" * 300 + "@example.org"):
        response = ask_for_link(client, bad)
        assert response.status_code == 400
        assert "email address" in response.get_data(as_text=True)
    assert count(SignInToken) == 0


# Following the link


def test_link_signs_in_a_new_reader_and_creates_their_supporter_row(client: FlaskClient) -> None:
    response = sign_in(client, "New.Reader@Example.org")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    supporter = db.session.scalar(
        select(Supporter).where(Supporter.email == "new.reader@example.org")
    )
    assert supporter is not None and supporter.last_sign_in_at is not None
    assert signed_in_id(client) == f"supporter:{supporter.id}:0"
    home = client.get("/account")
    assert home.status_code == 200
    assert "given yet, or you gave with another address" in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "private, no-store"


def test_a_guest_donor_sees_their_gifts_whatever_the_case_of_the_address(
    client: FlaskClient,
) -> None:
    supporter = make_supporter("Guest.Giver@Example.org")  # stored lower-cased by the webhook code
    make_donation(supporter, amount_cents=2500)
    sign_in(client, "  GUEST.giver@example.ORG ")
    page = client.get("/account").get_data(as_text=True)
    assert "$25" in page
    assert signed_in_id(client) == f"supporter:{supporter.id}:0"


def test_opening_the_link_does_not_use_it_only_the_button_does(client: FlaskClient) -> None:
    ask_for_link(client, "scanner@example.org")
    token = latest_token("scanner@example.org")
    for _ in range(3):  # a mail scanner, then the reader, then a reload
        page = client.get(f"/account/sign-in/{token}")
        assert page.status_code == 200
        assert "Sign in" in page.get_data(as_text=True)
        assert page.headers["Referrer-Policy"] == "no-referrer"
    assert signed_in_id(client) is None
    response = client.post(
        f"/account/sign-in/{token}",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )
    assert response.status_code == 303
    assert signed_in_id(client) is not None


def test_a_link_works_once(app: Flask, client: FlaskClient) -> None:
    ask_for_link(client, "once@example.org")
    token = latest_token("once@example.org")
    assert confirm(client, token).status_code == 303
    again = app.test_client()
    assert again.get(f"/account/sign-in/{token}").status_code == 400
    page = again.get("/account/sign-in")
    reuse = again.post(
        f"/account/sign-in/{token}",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )
    assert reuse.status_code == 400
    assert "expired or has already been used" in reuse.get_data(as_text=True)
    assert signed_in_id(again) is None


def test_the_used_link_is_removed_from_the_sent_email(client: FlaskClient) -> None:
    from membership.services.outbox import mark_sent

    ask_for_link(client, "outbox@example.org")
    token = latest_token("outbox@example.org")
    message = db.session.scalar(select(EmailMessage))
    assert message is not None
    mark_sent(db.session(), message, now=utcnow())
    db.session.commit()
    confirm(client, token)
    db.session.expire_all()
    message = db.session.scalar(select(EmailMessage))
    assert message is not None and token not in message.text_body and message.html_body is None


def test_links_expire_after_ten_minutes(app: Flask) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        early, late = app.test_client(), app.test_client()
        ask_for_link(early, "early@example.org")
        ask_for_link(late, "late@example.org")
        early_token, late_token = (
            latest_token("early@example.org"),
            latest_token("late@example.org"),
        )
    with time_machine.travel(start + timedelta(minutes=9, seconds=59), tick=False):
        assert confirm(early, early_token).status_code == 303
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert late.get(f"/account/sign-in/{late_token}").status_code == 400
        page = late.get("/account/sign-in")
        response = late.post(
            f"/account/sign-in/{late_token}",
            data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
        )
        assert response.status_code == 400
        assert signed_in_id(late) is None


def test_tampered_and_made_up_links_are_refused(client: FlaskClient) -> None:
    ask_for_link(client, "tamper@example.org")
    token = latest_token("tamper@example.org")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    page = client.get("/account/sign-in")
    csrf = csrf_token_from(page.get_data(as_text=True))
    for bad in (flipped, token + "x", token[:-1], "x" * 43, "short", "%00" * 20, "a" * 500):
        assert client.get(f"/account/sign-in/{bad}").status_code in (400, 404)
        assert client.post(f"/account/sign-in/{bad}", data={"csrf_token": csrf}).status_code in (
            400,
            404,
        )
    assert signed_in_id(client) is None
    assert confirm(client, token).status_code == 303  # the real one still works


def test_a_link_opened_in_another_browser_asks_before_signing_in(app: Flask) -> None:
    asking, other = app.test_client(), app.test_client()
    ask_for_link(asking, "two.browsers@example.org")
    token = latest_token("two.browsers@example.org")
    same = asking.get(f"/account/sign-in/{token}").get_data(as_text=True)
    elsewhere = other.get(f"/account/sign-in/{token}").get_data(as_text=True)
    assert "asked for in another browser" not in same
    assert "asked for in another browser" in elsewhere
    # Still a working link after the warning: people do open mail on their phone.
    response = other.post(
        f"/account/sign-in/{token}", data={"csrf_token": csrf_token_from(elsewhere)}
    )
    assert response.status_code == 303
    assert signed_in_id(other) is not None and signed_in_id(asking) is None


def test_the_confirm_button_needs_the_csrf_token(client: FlaskClient) -> None:
    ask_for_link(client, "csrf@example.org")
    token = latest_token("csrf@example.org")
    assert client.post(f"/account/sign-in/{token}", data={}).status_code == 400
    assert signed_in_id(client) is None


def test_signing_in_starts_a_fresh_session(client: FlaskClient) -> None:
    ask_for_link(client, "fixation@example.org")
    token = latest_token("fixation@example.org")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    confirm(client, token)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "sign_in_nonce" not in session
        assert session.permanent


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/account/preferences", "/account/preferences"),
        ("https://evil.example/steal", "/account"),
        ("//evil.example/steal", "/account"),
        ("/\\evil.example", "/account"),
        ("javascript:alert(1)", "/account"),
        ("/account\r\nSet-Cookie: x=1", "/account"),
        ("", "/account"),
    ],
)
def test_next_goes_only_to_our_own_paths(
    client: FlaskClient, next_path: str, expected: str
) -> None:
    response = sign_in(client, "next@example.org", next_path=next_path)
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_pages_that_need_a_supporter_send_anonymous_readers_to_sign_in(
    client: FlaskClient,
) -> None:
    response = client.get("/account/preferences")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in?next=/account/preferences"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/account/preferences"' in page


def test_staff_sign_in_with_the_same_page_and_land_on_staff(client: FlaskClient) -> None:
    member = create_or_update_staff(db.session(), email="editor@observatory.example", role="editor")
    db.session.commit()
    response = sign_in(client, "Editor@Observatory.example")
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff"
    assert signed_in_id(client) == f"staff:{member.id}:0"
    # Staff accounts are not supporter accounts.
    assert client.get("/account").status_code == 403
    assert count(Supporter) == 0


def test_an_inactive_staff_address_signs_in_as_a_supporter_instead(client: FlaskClient) -> None:
    member = create_or_update_staff(db.session(), email="former@observatory.example", role="editor")
    member.active = False
    db.session.commit()
    sign_in(client, "former@observatory.example")
    assert (signed_in_id(client) or "").startswith("supporter:")


# Sessions


def test_sign_out_everywhere_ends_every_session_of_that_account(app: Flask) -> None:
    laptop, phone, someone_else = app.test_client(), app.test_client(), app.test_client()
    sign_in(laptop, "many.devices@example.org")
    sign_in(phone, "many.devices@example.org")
    sign_in(someone_else, "other.person@example.org")
    assert phone.get("/account").status_code == 200
    page = laptop.get("/account/preferences").get_data(as_text=True)
    response = laptop.post(
        "/account/sign-out-everywhere", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 303
    assert "signed_out=everywhere" in response.headers["Location"]
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 302
    assert someone_else.get("/account").status_code == 200
    # Signing in again works, with the new epoch in the id.
    sign_in(phone, "many.devices@example.org")
    assert (signed_in_id(phone) or "").endswith(":1")
    assert phone.get("/account").status_code == 200


def test_a_cookie_without_a_server_side_session_signs_nobody_in(
    app: Flask, client: FlaskClient
) -> None:
    """Cookies from before server-side sessions (a user id alone, with or without an epoch) load
    nobody: every session is checked against its row on the server."""
    member = create_or_update_staff(db.session(), email="legacy@observatory.example", role="admin")
    db.session.commit()
    for user_id in (f"staff:{member.id}", f"staff:{member.id}:0"):
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
        assert client.get("/staff").status_code == 302
    from membership.auth import load_user

    assert load_user("staff:x:1") is None and load_user("other:1:0") is None


def test_sign_out(client: FlaskClient) -> None:
    sign_in(client, "leaving@example.org")
    page = client.get("/account").get_data(as_text=True)
    response = client.post("/account/sign-out", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    assert client.get("/account").status_code == 302
    said = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<p class="notice notice--ok" role="status">You&#39;re signed out.</p>' in said


# Passwords


def _set_password(
    client: FlaskClient, password: str, confirm_with: str | None = None
) -> TestResponse:
    page = client.get("/account/preferences").get_data(as_text=True)
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token_from(page),
            "password": password,
            "confirm": password if confirm_with is None else confirm_with,
        },
    )


def _password_sign_in(client: FlaskClient, email: str, password: str) -> TestResponse:
    page = client.get("/account/sign-in").get_data(as_text=True)
    return client.post(
        "/account/sign-in/password",
        data={"csrf_token": csrf_token_from(page), "email": email, "password": password},
    )


def test_a_supporter_may_set_a_password_and_sign_in_with_it(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(client, "pw@example.org")
    assert _set_password(client, "short").status_code == 400
    assert _set_password(client, "long enough words", "different words").status_code == 400
    assert _set_password(client, "correct horse battery").status_code == 303
    supporter = db.session.scalar(select(Supporter).where(Supporter.email == "pw@example.org"))
    assert supporter is not None and (supporter.password_hash or "").startswith("$argon2")
    other = app.test_client()
    wrong = _password_sign_in(other, "pw@example.org", "wrong password")
    unknown = _password_sign_in(other, "nobody@example.org", "correct horse battery")
    assert wrong.status_code == unknown.status_code == 400
    message = '<p class="notice notice--error" role="alert">That email address and password don&#39;t match'
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert signed_in_id(other) is None
    response = _password_sign_in(other, "PW@example.org", "correct horse battery")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert signed_in_id(other) == f"supporter:{supporter.id}:0"


def test_a_supporter_without_a_password_cannot_sign_in_with_one(client: FlaskClient) -> None:
    make_supporter("nopw@example.org")
    assert _password_sign_in(client, "nopw@example.org", "").status_code == 400
    assert _password_sign_in(client, "nopw@example.org", "anything at all").status_code == 400
    assert signed_in_id(client) is None


# Rate limits


def test_too_many_links_for_one_address_get_a_clear_429(client: FlaskClient) -> None:
    for _ in range(3):
        assert ask_for_link(client, "flood@example.org").status_code == 303
    response = ask_for_link(client, "FLOOD@example.org ")
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.get_data(as_text=True)
    assert response.headers.get("Retry-After")
    assert count(SignInToken) == 3
    # Another address from the same network is not blocked by that.
    assert ask_for_link(client, "someone.else@example.org").status_code == 303


def test_too_many_requests_from_one_network_get_a_429(
    app_factory: Callable[..., Flask],
) -> None:
    limited = app_factory(sign_in_rate_limit_ip="4 per minute").test_client()
    statuses = [
        ask_for_link(limited, f"reader{n}@example.org", ip="203.0.113.9").status_code
        for n in range(6)
    ]
    assert statuses == [303, 303, 303, 303, 429, 429]
    assert ask_for_link(limited, "reader9@example.org", ip="203.0.113.10").status_code == 303


def test_password_guessing_is_limited_too(client: FlaskClient) -> None:
    statuses = [
        _password_sign_in(client, "guess@example.org", f"guess {n}").status_code for n in range(5)
    ]
    assert statuses[:3] == [400, 400, 400]
    assert statuses[3:] == [429, 429]


def test_staff_model_sign_in_role_is_kept(client: FlaskClient) -> None:
    member = StaffMember(email="fin@observatory.example", role=StaffRole.FINANCE)
    db.session.add(member)
    db.session.commit()
    sign_in(client, "fin@observatory.example")
    assert signed_in_id(client) == f"staff:{member.id}:0"


def test_control_characters_are_refused_before_any_query(client: FlaskClient) -> None:
    # PostgreSQL refuses NUL in text: such input must be a 400 here, never a database error.
    for bad in ("a\x00b@example.org", "nul@exam\x00ple.org", "tab\t@example.org"):
        assert ask_for_link(client, bad).status_code == 400
    sign_in(client, "receipt.probe@example.org")
    assert client.get("/account/receipts/OBS%00-1").status_code == 404
