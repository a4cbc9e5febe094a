"""The shipped deploy/nginx.conf, run by Debian's nginx with TLS on loopback, in front of the app
with PROXY_HOPS=1: readers on different source addresses get their own limits, a forged
X-Forwarded-For buys nothing, the app knows it is served over HTTPS, and nginx serves static
files, gzip, a micro-cache and the body size limit."""

from __future__ import annotations

import gzip
import logging
import re

import pytest
from sqlalchemy import select

from helpers.nginx import Nginx, Reader
from membership.extensions import db
from membership.models import DonationIntent, EmailMessage

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _start_checkout(reader: Reader, headers: dict[str, str] | None = None) -> int:
    page = reader.get("/support")
    match = CSRF.search(page.text)
    assert match, page.text[:300]
    form = {
        "csrf_token": match.group(1),
        "frequency": "once",
        "amount_choice": "100",
        "other_amount": "",
        "email": f"reader-{reader.source_ip}@example.org",
        "website": "",
    }
    return reader.post("/support", form=form, headers=headers).status


def test_each_reader_has_their_own_limit_and_a_forged_address_buys_nothing(
    behind_nginx: Nginx, app_context: None
) -> None:
    readers = [Reader(behind_nginx, f"127.0.0.{n}") for n in range(2, 6)]
    assert [_start_checkout(reader) for reader in readers] == [303, 303, 303, 303]
    forged = _start_checkout(readers[0], headers={"X-Forwarded-For": "203.0.113.77"})
    assert forged == 429
    assert len(db.session.scalars(select(DonationIntent)).all()) == 4


@pytest.mark.parametrize("behind_nginx", [0], indirect=True)
def test_without_proxy_hops_every_reader_shares_the_proxy_s_bucket(
    behind_nginx: Nginx, app_context: None
) -> None:
    # The defect PROXY_HOPS fixes: the limiter keys on nginx's address, so the second reader
    # to press "Donate" in a minute is refused.
    readers = [Reader(behind_nginx, f"127.0.0.{n}") for n in range(2, 4)]
    assert [_start_checkout(reader) for reader in readers] == [303, 429]


def test_the_app_sees_the_reader_and_https(
    behind_nginx: Nginx, app_context: None, caplog: pytest.LogCaptureFixture
) -> None:
    reader = Reader(behind_nginx, "127.0.0.3")
    with caplog.at_level(logging.INFO, logger="membership.requests"):
        page = reader.get("/account/sign-in")
    seen = [r for r in caplog.records if getattr(r, "path", "") == "/account/sign-in"]
    assert [getattr(r, "remote_addr", None) for r in seen] == ["127.0.0.3"]
    assert page.headers["X-Request-ID"]
    # Flask-WTF's HTTPS-only Referer check runs: the app knows the request came over TLS.
    token = CSRF.search(page.text)
    assert token
    sent = reader.post(
        "/account/sign-in", form={"csrf_token": token.group(1), "email": "tls@example.org"}
    )
    assert sent.status == 303
    assert not sent.headers["Location"].startswith("http://")
    stranger = reader.post(
        "/account/sign-in",
        form={"csrf_token": token.group(1), "email": "tls@example.org"},
        headers={"Referer": "https://elsewhere.example/", "Origin": "https://elsewhere.example"},
    )
    assert stranger.status == 400
    mail = db.session.scalar(
        select(EmailMessage).where(EmailMessage.to_address == "tls@example.org")
    )
    assert mail is not None
    assert f"{behind_nginx.origin}/account/sign-in/" in mail.text_body
    # Plain HTTP is sent to HTTPS by nginx.
    import http.client

    plain = http.client.HTTPConnection("127.0.0.1", behind_nginx.http_port, timeout=10)
    plain.request("GET", "/articles/harbour")
    moved = plain.getresponse()
    assert moved.status == 301 and moved.headers["Location"].startswith("https://127.0.0.1")
    plain.close()


def test_nginx_serves_static_files_gzip_and_a_micro_cache(behind_nginx: Nginx) -> None:
    reader = Reader(behind_nginx, "127.0.0.4")
    article = reader.get("/articles/harbour", headers={"Accept-Encoding": "gzip"})
    assert article.status == 200
    assert article.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(article.body).decode()
    css = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', html)
    assert css, "the page links its fingerprinted CSS"
    assert reader.get("/articles/harbour").headers["X-Cache"] == "HIT"
    assert reader.get("/account/sign-in").headers.get("X-Cache") is None
    stylesheet = reader.get(css.group(1))
    assert stylesheet.status == 200 and b"{" in stylesheet.body
    assert "immutable" in stylesheet.headers["Cache-Control"]
    assert "immutable" not in reader.get("/static/css/site.css").headers["Cache-Control"]
    huge = reader.post("/support", body=b"x" * (3 * 1024 * 1024))
    assert huge.status == 413
