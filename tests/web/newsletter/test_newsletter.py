"""The reader's side of the newsletter through the real parts: forms, the outbox delivered to a real
SMTP server, the links in the received mail, the consent ledger, the one-click unsubscribe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as Mime
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from flask import Flask, current_app
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import Headers

from helpers.clients import csrf_token_from
from helpers.factories import count, make_article
from helpers.newsletter import (
    confirm_link_in,
    deliver,
    path_of,
    subscribe,
    subscriber,
)
from helpers.smtp_capture import SmtpCapture
from membership.extensions import db
from membership.models import (
    ConsentEvent,
    ConsentKind,
    EmailMessage,
    Subscriber,
    SubscriberStatus,
)
from membership.services.newsletter import consent, links, subscriptions
from membership.services.supporters import find_or_create_supporter

pytestmark = pytest.mark.usefixtures("app_context")


def events(email: str) -> list[ConsentEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ConsentEvent)
            .join(Subscriber, Subscriber.id == ConsentEvent.subscriber_id)
            .where(Subscriber.email == email)
            .order_by(ConsentEvent.id)
        )
    )


def confirm(client: FlaskClient, link: str) -> Any:
    page = client.get(path_of(link))
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert "Confirm my subscription" in html
    return client.post(path_of(link), data={"csrf_token": csrf_token_from(html)})


def text_of(message: Mime) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_double_opt_in_from_form_to_confirmed(client: FlaskClient, smtp: SmtpCapture) -> None:
    response = subscribe(client, "Reader@Example.org ", source="article:glacier-mission")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/newsletter/check-your-inbox")
    assert "Check your inbox" in client.get("/newsletter/check-your-inbox").get_data(as_text=True)
    pending = subscriber("reader@example.org")
    assert pending.status is SubscriberStatus.PENDING
    assert pending.source == "article:glacier-mission"

    assert deliver(smtp).sent == 1
    [mail] = smtp.messages
    assert mail["To"] == "reader@example.org"
    assert "confirm" in mail["Subject"].lower()
    # Nothing but the confirmation reaches an unconfirmed address: no List-Unsubscribe on it.
    assert mail["List-Unsubscribe"] is None
    link = confirm_link_in(text_of(mail))
    html_part = mail.get_body(preferencelist=("html",))
    assert html_part is not None and link in str(html_part.get_content())

    # Following the link only shows a button (mail scanners open links); the POST confirms.
    client.get(path_of(link))
    assert subscriber("reader@example.org").status is SubscriberStatus.PENDING
    done = confirm(client, link)
    assert done.status_code == 303
    assert "You're subscribed" in unescape(
        client.get(done.headers["Location"]).get_data(as_text=True)
    )
    confirmed = subscriber("reader@example.org")
    assert confirmed.status is SubscriberStatus.CONFIRMED
    assert confirmed.confirmed_at is not None

    subscribe_event, confirm_event = events("reader@example.org")
    assert subscribe_event.kind is ConsentKind.SUBSCRIBE
    assert subscribe_event.source == "article:glacier-mission"
    assert subscribe_event.wording_version == consent.CURRENT_WORDING
    assert subscribe_event.ip_hash and "127.0.0.1" not in subscribe_event.ip_hash
    assert subscribe_event.ip_hash == consent.hash_ip(current_app.config["MEMBERSHIP"], "127.0.0.1")
    assert confirm_event.kind is ConsentKind.CONFIRM
    assert confirm_event.wording_version == subscribe_event.wording_version
    # Following the link again is harmless and records nothing new.
    again = client.get(path_of(link)).get_data(as_text=True)
    assert "is already subscribed" in again and "<button" not in again
    assert len(events("reader@example.org")) == 2


def test_the_answer_is_the_same_whoever_is_asking(client: FlaskClient, smtp: SmtpCapture) -> None:
    subscriptions.set_supporter_subscription(
        db.session(), find_or_create_supporter(db.session(), email="known@example.org"), True
    )
    db.session.commit()
    for address in ("known@example.org", "new@example.org"):
        response = subscribe(client, address)
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/newsletter/check-your-inbox")
    known = subscribe(client, "known@example.org")
    new = subscribe(client, "new@example.org")
    assert known.get_data() == new.get_data()

    # Only the rate limiter's own counters (they count requests, not addresses on the list) and
    # each request's own id differ.
    def same_for_everyone(headers: Headers) -> dict[str, str]:
        return {k: v for k, v in headers if not k.startswith(("X-RateLimit", "X-Request-ID"))}

    assert same_for_everyone(known.headers) == same_for_everyone(new.headers)
    deliver(smtp)
    subjects = {(m["To"], m["Subject"]) for m in smtp.messages}
    # The confirmed address hears it is already subscribed; no new confirmation, no status change.
    assert ("known@example.org", "You're already subscribed to The Observatory Weekly") in subjects
    assert subscriber("known@example.org").status is SubscriberStatus.CONFIRMED


def test_asking_again_resends_the_confirmation(client: FlaskClient, smtp: SmtpCapture) -> None:
    subscribe(client, "twice@example.org")
    subscribe(client, "TWICE@example.org")
    deliver(smtp)
    assert [m["To"] for m in smtp.messages] == ["twice@example.org", "twice@example.org"]
    assert count(Subscriber) == 1
    assert [e.kind for e in events("twice@example.org")] == [ConsentKind.SUBSCRIBE] * 2
    # Either link works.
    assert confirm(client, confirm_link_in(text_of(smtp.messages[0]))).status_code == 303


def test_the_confirmation_quotes_the_wording_the_reader_was_shown(
    app: Flask, client: FlaskClient, smtp: SmtpCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whichever known version the reader's form names (a page cached before a wording change
    # names the older one), their confirmation email quotes those words, as the ledger records.
    monkeypatch.setitem(
        consent.CONSENT_WORDINGS, "2027-01-b", "Send me {newsletter} from {publication} on Fridays."
    )
    config = app.config["MEMBERSHIP"]
    subscribe(client, "friday@example.org", version="2027-01-b")
    deliver(smtp)
    [mail] = smtp.messages
    assert consent.consent_wording(config, "2027-01-b") in text_of(mail)
    assert consent.consent_wording(config) not in text_of(mail)
    assert [e.wording_version for e in events("friday@example.org")] == ["2027-01-b"]


def test_address_rate_limit_gives_a_clear_429(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(newsletter_address_rate_limit="2/hour", newsletter_ip_rate_limit="100/hour")
    client = app.test_client()
    with app.app_context():
        assert subscribe(client, "flood@example.org").status_code == 303
        assert subscribe(client, "Flood@example.org").status_code == 303
        limited = subscribe(client, "flood@example.org")
        assert limited.status_code == 429
        assert "several confirmation emails" in limited.get_data(as_text=True)
        assert limited.headers["Retry-After"]
        # Another address from the same IP is still fine.
        assert subscribe(client, "other@example.org").status_code == 303
        assert (
            db.session.scalar(select(EmailMessage.id).where(EmailMessage.to_address == "x")) is None
        )
        flood = db.session.scalars(
            select(EmailMessage).where(EmailMessage.to_address == "flood@example.org")
        ).all()
        assert len(flood) == 2


def test_ip_rate_limit(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(newsletter_ip_rate_limit="3/minute", newsletter_address_rate_limit="9/hour")
    client = app.test_client()
    with app.app_context():
        codes = [subscribe(client, f"r{n}@example.org").status_code for n in range(5)]
    assert codes == [303, 303, 303, 429, 429]


def test_a_post_from_another_site_is_refused(client: FlaskClient) -> None:
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        response = subscribe(client, "victim@example.org", headers=headers)
        assert response.status_code == 400
        assert "another website" in response.get_data(as_text=True)
    assert count(Subscriber) == 0
    assert count(EmailMessage) == 0
    # Our own origin, as a browser sends it, is fine.
    base = current_app.config["MEMBERSHIP"].base_url
    assert subscribe(client, "me@example.org", headers={"Origin": base}).status_code == 303
    ok = subscribe(client, "me2@example.org", headers={"Origin": "http://localhost"})
    assert ok.status_code == 303


def test_honeypot_looks_like_success_and_sends_nothing(client: FlaskClient) -> None:
    response = subscribe(client, "bot@example.org", extra={"website": "http://spam.example"})
    assert response.status_code == 303
    assert count(Subscriber) == 0 and count(EmailMessage) == 0


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address."),
        ("not-an-address", "like name@example.com"),
        ("a@b", "like name@example.com"),
        ("x" * 300 + "@example.org", "too long"),
        ("<script>alert(1)</script>@example.org", "like name@example.com"),
        ("a,b@example.org", "like name@example.com"),
        ("a@example.org\r\nBcc: x@example.org", "like name@example.com"),
    ],
)
def test_bad_addresses_get_a_clear_400(client: FlaskClient, email: str, message: str) -> None:
    response = subscribe(client, email)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert "<script>alert" not in html
    assert count(Subscriber) == 0


def test_unknown_wording_version_asks_to_read_the_current_wording(client: FlaskClient) -> None:
    response = subscribe(client, "old@example.org", version="1999-old")
    assert response.status_code == 400
    assert "wording has changed" in response.get_data(as_text=True)
    assert count(Subscriber) == 0


def _fuzz_app(app_factory: Callable[..., Flask]) -> Flask:
    key = id(app_factory)
    if key not in _FUZZ_APPS:
        _FUZZ_APPS.clear()
        _FUZZ_APPS[key] = app_factory(ratelimit_enabled=False)
    return _FUZZ_APPS[key]


_FUZZ_APPS: dict[int, Flask] = {}
_TEXT = st.text(max_size=400)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    email=_TEXT | st.emails().map(str),
    source=_TEXT,
    version=_TEXT | st.just("2026-11-a"),
    website=st.just("") | _TEXT,
)
def test_subscribe_form_never_fails_on_odd_input(
    app_factory: Callable[..., Flask], email: str, source: str, version: str, website: str
) -> None:
    app = _fuzz_app(app_factory)
    client = app.test_client()
    with app.app_context():
        response = client.post(
            "/newsletter",
            data={"email": email, "source": source, "consent_version": version, "website": website},
        )
        assert response.status_code in (303, 400), response.get_data(as_text=True)[:500]
        db.session.remove()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=st.text(max_size=600))
def test_links_with_any_token_never_fail(app_factory: Callable[..., Flask], token: str) -> None:
    app = _fuzz_app(app_factory)
    client = app.test_client()
    with app.app_context():
        for path in ("/newsletter/confirm/", "/newsletter/unsubscribe/"):
            response = client.get(path + quote(token, safe=""))
            assert response.status_code in (400, 404, 308), response.status_code
            posted = client.post(path + quote(token, safe=""))
            assert posted.status_code in (400, 404, 308), posted.status_code
        db.session.remove()


def confirmed_reader(client: FlaskClient, smtp: SmtpCapture, email: str) -> Subscriber:
    subscribe(client, email)
    deliver(smtp)
    confirm(client, confirm_link_in(text_of(smtp.messages[-1])))
    return subscriber(email)


def test_signed_tokens_cannot_be_tampered_with(
    client: FlaskClient, smtp: SmtpCapture, app: Flask
) -> None:
    reader = confirmed_reader(client, smtp, "reader@example.org")
    other = confirmed_reader(client, smtp, "other@example.org")
    config = app.config["MEMBERSHIP"]
    token = links.UnsubscribeSigner(config).token(reader.id, reader.email)
    payload, _, signature = token.partition(".")
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature altered
        payload + ".",  # signature removed
        # Somebody else's id with this reader's signature.
        links.UnsubscribeSigner(config).token(other.id, other.email).split(".")[0]
        + "."
        + signature,
        # Signed with another key.
        links.UnsubscribeSigner(config.with_overrides(secret_key="x" * 40)).token(
            reader.id, reader.email
        ),
        # A genuine signature over an id with the wrong address binding.
        links.UnsubscribeSigner(config).token(other.id, reader.email),
    ]
    for bad in forged:
        assert client.get(f"/newsletter/unsubscribe/{bad}").status_code == 400
        assert client.post(f"/newsletter/unsubscribe/{bad}").status_code == 400
        assert client.get(f"/newsletter/confirm/{bad}").status_code == 400
    # A genuine confirmation token is not an unsubscribe token (different salt), nor the reverse.
    confirmation = links.confirmation_token(config, reader)
    assert client.post(f"/newsletter/unsubscribe/{confirmation}").status_code == 400
    assert client.get(f"/newsletter/confirm/{forged[0][:-1]}").status_code == 400
    assert subscriber("reader@example.org").status is SubscriberStatus.CONFIRMED
    assert subscriber("other@example.org").status is SubscriberStatus.CONFIRMED


def test_one_click_unsubscribe_needs_no_cookie_or_csrf(
    app: Flask, client: FlaskClient, smtp: SmtpCapture
) -> None:
    reader = confirmed_reader(client, smtp, "leaving@example.org")
    url = links.UnsubscribeSigner(app.config["MEMBERSHIP"]).url(reader.id, reader.email)
    # A mail provider's request: a fresh client, no cookies, the RFC 8058 body.
    provider = app.test_client(use_cookies=False)
    response = provider.post(
        path_of(url),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You're unsubscribed" in unescape(response.get_data(as_text=True))
    assert "Set-Cookie" not in response.headers
    assert subscriber("leaving@example.org").status is SubscriberStatus.UNSUBSCRIBED
    # Again: still fine, recorded once.
    assert provider.post(path_of(url)).status_code == 200
    kinds = [e.kind for e in events("leaving@example.org")]
    assert kinds == [ConsentKind.SUBSCRIBE, ConsentKind.CONFIRM, ConsentKind.UNSUBSCRIBE]
    assert events("leaving@example.org")[-1].source == "list-unsubscribe"


def test_unsubscribe_link_shows_a_button_and_get_changes_nothing(
    app: Flask, client: FlaskClient, smtp: SmtpCapture
) -> None:
    reader = confirmed_reader(client, smtp, "scanned@example.org")
    url = links.UnsubscribeSigner(app.config["MEMBERSHIP"]).url(reader.id, reader.email)
    for _ in range(3):  # a link scanner opening the link
        page = client.get(path_of(url))
        assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<button" in html and "Unsubscribe" in html
    assert "scanned@example.org" not in html  # the address is masked on the page
    assert subscriber("scanned@example.org").status is SubscriberStatus.CONFIRMED


def test_resubscribe_needs_a_new_confirmation_and_is_recorded(
    app: Flask, client: FlaskClient, smtp: SmtpCapture
) -> None:
    reader = confirmed_reader(client, smtp, "back@example.org")
    first_link = confirm_link_in(text_of(smtp.messages[-1]))
    url = links.UnsubscribeSigner(app.config["MEMBERSHIP"]).url(reader.id, reader.email)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1)):
        client.post(path_of(url))
    assert subscriber("back@example.org").status is SubscriberStatus.UNSUBSCRIBED
    # The old confirmation link must not sign them up again.
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        assert client.get(path_of(first_link)).status_code == 400
        subscribe(client, "back@example.org")
        # Until the new link is followed they stay unsubscribed: nothing else reaches them.
        assert subscriber("back@example.org").status is SubscriberStatus.UNSUBSCRIBED
        deliver(smtp)
        new_link = confirm_link_in(text_of(smtp.messages[-1]))
        assert confirm(client, new_link).status_code == 303
    assert subscriber("back@example.org").status is SubscriberStatus.CONFIRMED
    kinds = [e.kind for e in events("back@example.org")]
    assert kinds == [
        ConsentKind.SUBSCRIBE,
        ConsentKind.CONFIRM,
        ConsentKind.UNSUBSCRIBE,
        ConsentKind.SUBSCRIBE,
        ConsentKind.RESUBSCRIBE,
    ]


def test_confirmation_links_expire(client: FlaskClient, smtp: SmtpCapture) -> None:
    subscribe(client, "slow@example.org")
    deliver(smtp)
    link = confirm_link_in(text_of(smtp.messages[-1]))
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8)):
        page = client.get(path_of(link))
    assert page.status_code == 400
    assert "expired" in page.get_data(as_text=True)
    assert subscriber("slow@example.org").status is SubscriberStatus.PENDING


def test_supporters_and_subscribers_are_linked_both_ways(app: Flask) -> None:
    config = app.config["MEMBERSHIP"]
    early = find_or_create_supporter(db.session(), email="early@example.org")
    assert early is not None
    subscriptions.request_subscription(
        db.session(),
        config,
        email="EARLY@example.org",
        source="footer:/",
        wording_version="2026-11-a",
        ip=None,
    )
    subscriptions.request_subscription(
        db.session(),
        config,
        email="later@example.org",
        source="footer:/",
        wording_version="2026-11-a",
        ip=None,
    )
    db.session.commit()
    assert subscriber("early@example.org").supporter_id == early.id
    assert subscriber("later@example.org").supporter_id is None
    later = find_or_create_supporter(db.session(), email="Later@Example.org")
    db.session.commit()
    assert later is not None
    assert subscriber("later@example.org").supporter_id == later.id


def test_supporter_preferences_switch_the_newsletter(app: Flask) -> None:
    supporter = find_or_create_supporter(db.session(), email="fan@example.org")
    assert supporter is not None
    assert subscriptions.supporter_subscription(db.session(), supporter) is None
    subscriptions.set_supporter_subscription(db.session(), supporter, True)
    db.session.commit()
    assert subscriber("fan@example.org").status is SubscriberStatus.CONFIRMED
    subscriptions.set_supporter_subscription(db.session(), supporter, False)
    subscriptions.set_supporter_subscription(db.session(), supporter, False)
    db.session.commit()
    assert (
        subscriptions.supporter_subscription(db.session(), supporter)
        is SubscriberStatus.UNSUBSCRIBED
    )
    subscriptions.set_supporter_subscription(db.session(), supporter, True)
    db.session.commit()
    history = [(e.kind, e.source) for e in events("fan@example.org")]
    assert history == [
        (ConsentKind.CONFIRM, "account"),
        (ConsentKind.UNSUBSCRIBE, "account"),
        (ConsentKind.RESUBSCRIBE, "account"),
    ]
    assert all(e.wording_version for e in events("fan@example.org") if e.kind != "unsubscribe")


def test_article_and_footer_forms_keep_the_page_cacheable(client: FlaskClient) -> None:
    make_article(slug="harbour")
    first = client.get("/articles/harbour")
    second = client.get("/articles/harbour")
    html = first.get_data(as_text=True)
    assert first.get_data() == second.get_data()
    assert "Set-Cookie" not in first.headers
    assert "Cookie" not in first.headers.get("Vary", "")
    assert first.headers["Cache-Control"].startswith("public")
    assert 'name="csrf_token"' not in html
    assert 'value="article:harbour"' in html
    assert 'value="footer:/articles/harbour"' in html
    assert html.count('action="/newsletter"') == 2
    assert consent.consent_wording(current_app.config["MEMBERSHIP"]) in html


def test_newsletter_page_has_the_full_form(client: FlaskClient) -> None:
    response = client.get("/newsletter")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>The Observatory Weekly</h1>" in html
    assert 'for="newsletter-email"' in html and 'id="newsletter-email"' in html
    assert 'value="newsletter-page"' in html
    assert "Set-Cookie" not in response.headers
    # The footer form is left out here: one form per page is enough.
    assert html.count('action="/newsletter"') == 1
