from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from helpers.factories import make_article, make_variant
from membership.extensions import db
from membership.page_cache import PageCache, PageVersion
from membership.services.articles import ArticleDraft, save_article


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_version_is_reloaded_only_after_it_expires() -> None:
    clock = Clock()
    cache = PageCache(version_seconds=2, clock=clock)
    loads: list[int] = []

    def load() -> PageVersion:
        loads.append(1)
        return PageVersion(etag=f"v{len(loads)}", article_id=1)

    assert cache.version("a", load) == PageVersion("v1", 1)
    clock.now += 1.9
    assert cache.version("a", load) == PageVersion("v1", 1)
    clock.now += 0.2
    assert cache.version("a", load) == PageVersion("v2", 1)
    assert len(loads) == 2


def test_missing_pages_are_remembered_too_and_zero_seconds_disables_it() -> None:
    clock = Clock()
    cache = PageCache(version_seconds=2, clock=clock)
    calls: list[str] = []
    assert cache.version("gone", lambda: calls.append("x")) is None  # type: ignore[func-returns-value]
    assert cache.version("gone", lambda: calls.append("y")) is None  # type: ignore[func-returns-value]
    assert calls == ["x"]
    uncached = PageCache(version_seconds=0)
    uncached.version("gone", lambda: calls.append("z"))  # type: ignore[func-returns-value]
    uncached.version("gone", lambda: calls.append("z"))  # type: ignore[func-returns-value]
    assert calls == ["x", "z", "z"]


def test_rendered_pages_are_kept_per_version_and_evicted_oldest_first() -> None:
    cache = PageCache(version_seconds=2, max_pages=2)
    renders: list[str] = []

    def render(name: str) -> bytes:
        renders.append(name)
        return name.encode()

    assert cache.page("e1", lambda: render("one")) == b"one"
    assert cache.page("e1", lambda: render("again")) == b"one"
    cache.page("e2", lambda: render("two"))
    cache.page("e3", lambda: render("three"))
    assert cache.page("e1", lambda: render("one-again")) == b"one-again"
    assert renders == ["one", "two", "three", "one-again"]


def test_an_edit_shows_once_the_version_expires(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(article_version_seconds=60)
    clock = Clock()
    with app.app_context():
        make_variant()
        make_article(slug="edited", body="Old text.")
    client: FlaskClient = app.test_client()
    client.get("/articles/edited")
    cache = app.extensions["article_page_cache"]
    cache.clock = clock
    cache.clear()
    assert "Old text." in client.get("/articles/edited").get_data(as_text=True)
    with app.app_context():
        save_article(
            db.session(), ArticleDraft(slug="edited", title="T", body_markdown="New text.")
        )
        db.session.commit()
    assert "Old text." in client.get("/articles/edited").get_data(as_text=True)
    clock.now += 61
    assert "New text." in client.get("/articles/edited").get_data(as_text=True)


def test_repeat_requests_are_answered_in_front_of_flask_with_the_same_headers(
    app_factory: Callable[..., Flask],
) -> None:
    app = app_factory(article_version_seconds=60)
    with app.app_context():
        make_variant()
        make_article(slug="fast", body="Fast *text*.")
    client = app.test_client()
    calls: list[str] = []
    app.before_request(lambda: calls.append("flask") and None)
    first = client.get("/articles/fast")  # Flask renders it and validates the version
    assert calls == ["flask"]
    repeat = client.get("/articles/fast?utm_source=newsletter")
    cached = client.get("/articles/fast", headers={"If-None-Match": first.headers["ETag"]})
    head = client.head("/articles/fast")
    assert calls == ["flask"]  # none of these reached the framework
    assert repeat.status_code == 200 and repeat.data == first.data
    assert cached.status_code == 304 and cached.data == b""
    assert head.status_code == 200 and head.data == b""
    ignore = {"Date", "Server", "Content-Length", "Content-Type", "X-Request-ID"}  # per request
    flask_headers = {k: v for k, v in first.headers.items() if k not in ignore}
    assert {k: v for k, v in repeat.headers.items() if k not in ignore} == flask_headers
    assert {k: v for k, v in cached.headers.items() if k not in ignore} == flask_headers
    assert repeat.headers["Content-Type"] == first.headers["Content-Type"]
    # An old ETag gets the current page from the cache; other methods and pages go to Flask.
    stale = client.get("/articles/fast", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.data == first.data
    assert calls == ["flask"]
    assert client.post("/articles/fast").status_code == 405
    assert client.get("/articles/Not-A-Slug").status_code == 404
    assert client.get("/").status_code == 200
    assert calls == ["flask"] * 4
