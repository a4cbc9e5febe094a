"""The micro-cache in the shipped deploy/nginx.conf: anonymous readers' front and article pages come
from nginx's cache (the app sees one request), while readers with a session or remember-me
cookie, every method but GET/HEAD and every personalised path go to the app and are never stored
for anyone else. What reached the app is read from its own request log."""

from __future__ import annotations

import logging
import re

import pytest

from helpers.nginx import Nginx, Reader

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Pages about one reader (or one browser's form): none may ever come from the shared cache.
PERSONAL_PATHS = [
    "/account",
    "/account/sign-in",
    "/account/preferences",
    "/staff/",
    "/support",
    "/support/thanks",
    "/support/remind",
    "/support/monthly/not-a-token",
    "/lifecycle/go/not-a-token",
    "/newsletter",
    "/api/v1/supporters",
    "/api/banner",
    "/webhooks/stripe",
]


def _app_saw(caplog: pytest.LogCaptureFixture, path: str) -> int:
    return len([r for r in caplog.records if getattr(r, "path", None) == path])


@pytest.fixture
def app_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="membership.requests")
    return caplog


def test_anonymous_readers_get_the_article_from_nginx_s_cache(
    behind_nginx: Nginx, app_log: pytest.LogCaptureFixture
) -> None:
    readers = [Reader(behind_nginx, f"127.0.0.{n}") for n in range(2, 6)]
    first = readers[0].get("/articles/harbour")
    assert first.status == 200 and "The harbour reopened." in first.text
    assert first.headers["X-Cache"] == "MISS"
    assert first.headers["ETag"] and "public" in first.headers["Cache-Control"]
    later = [reader.get("/articles/harbour") for reader in readers[1:]]
    assert [answer.headers["X-Cache"] for answer in later] == ["HIT", "HIT", "HIT"]
    assert {answer.body for answer in later} == {first.body}
    head = readers[1].request("HEAD", "/articles/harbour")
    assert head.status == 200 and head.headers["X-Cache"] == "HIT" and head.body == b""
    # nginx answers the reader's own validator from the cache, with the app's ETag.
    again = readers[2].get("/articles/harbour", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304 and again.headers["X-Cache"] == "HIT"
    assert _app_saw(app_log, "/articles/harbour") == 1
    # The cache keeps only what the app allows: the front page says no public max-age today.
    front = [reader.get("/") for reader in readers[:2]]
    assert "public" not in front[0].headers.get("Cache-Control", "")
    assert [answer.headers["X-Cache"] for answer in front] == ["MISS", "MISS"]
    assert _app_saw(app_log, "/") == 2
    # A page the app does not allow to be kept (a 404 has no public Cache-Control) is not kept.
    assert [readers[0].get("/articles/nowhere").status for _ in range(2)] == [404, 404]
    assert _app_saw(app_log, "/articles/nowhere") == 2


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_a_reader_with_a_session_cookie_bypasses_the_cache_and_is_not_stored(
    behind_nginx: Nginx, app_log: pytest.LogCaptureFixture, cookie: str
) -> None:
    anonymous = Reader(behind_nginx, "127.0.0.2")
    assert anonymous.get("/articles/harbour").headers["X-Cache"] == "MISS"
    assert anonymous.get("/articles/harbour").headers["X-Cache"] == "HIT"
    signed_in = Reader(behind_nginx, "127.0.0.3", cookies={cookie: "x"})
    answers = [signed_in.get("/articles/harbour") for _ in range(2)]
    assert [a.headers["X-Cache"] for a in answers] == ["BYPASS", "BYPASS"]
    assert all(a.status == 200 and "The harbour reopened." in a.text for a in answers)
    assert _app_saw(app_log, "/articles/harbour") == 3
    # What a reader with a cookie was given is never stored for the next reader.
    assert signed_in.get("/articles/harbour?from=signed-in").headers["X-Cache"] == "BYPASS"
    assert anonymous.get("/articles/harbour?from=signed-in").headers["X-Cache"] == "MISS"


def test_posts_bypass_the_cache(behind_nginx: Nginx, app_log: pytest.LogCaptureFixture) -> None:
    reader = Reader(behind_nginx, "127.0.0.4")
    assert reader.get("/articles/harbour").headers["X-Cache"] == "MISS"
    assert reader.get("/articles/harbour").headers["X-Cache"] == "HIT"
    # A POST to a cached page reaches the app (which refuses it), never the stored GET answer.
    posted = reader.post("/articles/harbour", body=b"x=1")
    assert posted.status == 405 and posted.headers.get("X-Cache") != "HIT"
    assert _app_saw(app_log, "/articles/harbour") == 2
    # Nor is a POST's answer stored for a GET of the same address.
    assert reader.post("/?probe=post").status == 405
    assert reader.get("/?probe=post").headers["X-Cache"] == "MISS"
    for method in ("PUT", "DELETE", "PATCH"):
        answer = reader.request(method, "/articles/harbour", body=b"")
        assert answer.status == 405 and answer.headers.get("X-Cache") != "HIT", method


def test_personalised_pages_are_never_cached_or_given_to_another_reader(
    behind_nginx: Nginx, app_log: pytest.LogCaptureFixture
) -> None:
    first, second = Reader(behind_nginx, "127.0.0.2"), Reader(behind_nginx, "127.0.0.3")
    for path in PERSONAL_PATHS:
        answers = [
            reader.get(path) for reader in (first, first, second, Reader(behind_nginx, "127.0.0.5"))
        ]
        assert [a.headers.get("X-Cache") for a in answers] == [None] * 4, path
        assert all(a.status < 500 for a in answers), path
        assert _app_saw(app_log, path) == 4, path

    # The support form carries each reader's own CSRF token (its first part is the session's
    # secret; the rest is a timestamped signature): the second reader gets theirs.
    def secret(reader: Reader) -> str:
        token = CSRF.search(reader.get("/support").text)
        assert token
        return token.group(1).split(".", 1)[0]

    mine = secret(first)
    assert secret(second) != mine
    assert secret(first) == mine
