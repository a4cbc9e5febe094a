"""Render an article page once per version, and ask the database for that version at most once a
short while per article and process.

A derived cache only: the database stays the one source of truth. A version is trusted for
ARTICLE_VERSION_SECONDS (default 2 s, far below the page's public max-age), so an edit shows within
that time; the rendered HTML is keyed by the version itself, so it is never stale for its version.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from membership.services.articles import SLUG_RE

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


@dataclass(frozen=True)
class PageVersion:
    etag: str
    article_id: int


class PageCache:
    def __init__(
        self,
        version_seconds: float,
        max_pages: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.version_seconds = version_seconds
        self.max_pages = max_pages
        self.clock = clock
        self._lock = threading.Lock()
        self._versions: dict[str, tuple[float, PageVersion | None]] = {}
        self._pages: OrderedDict[str, bytes] = OrderedDict()

    def fresh_version(self, slug: str) -> PageVersion | None:
        """The version of a page if one was validated within the trust window, else None."""
        if self.version_seconds <= 0:
            return None
        with self._lock:
            cached = self._versions.get(slug)
        if cached is None or cached[0] <= self.clock():
            return None
        return cached[1]

    def rendered(self, etag: str) -> bytes | None:
        with self._lock:
            return self._pages.get(etag)

    def version(self, slug: str, load: Callable[[], PageVersion | None]) -> PageVersion | None:
        """The current version of a page (None: no such page), from `load` when not fresh."""
        if self.version_seconds <= 0:
            return load()
        now = self.clock()
        with self._lock:
            cached = self._versions.get(slug)
        if cached is not None and cached[0] > now:
            return cached[1]
        version = load()
        with self._lock:
            if len(self._versions) >= self.max_pages * 4:
                self._versions.clear()
            self._versions[slug] = (now + self.version_seconds, version)
        return version

    def page(self, etag: str, render: Callable[[], bytes]) -> bytes:
        """The rendered page for this version, rendering it only the first time."""
        with self._lock:
            body = self._pages.get(etag)
            if body is not None:
                self._pages.move_to_end(etag)
                return body
        body = render()
        with self._lock:
            self._pages[etag] = body
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()
            self._pages.clear()


class PublicPageMiddleware:
    """Answers a repeat request for an article in front of the framework, as a shared cache would.

    Only when the page's version was validated against the database within the trust window:
    a `304 Not Modified` when the reader's ETag matches, or the already rendered page. Everything
    else (first views, expired versions, other pages) goes to Flask, which refreshes the cache.
    The answer carries the same headers Flask would give it.
    """

    PREFIX = "/articles/"

    def __init__(
        self,
        app: WSGIApplication,
        cache: PageCache,
        *,
        headers: list[tuple[str, str]],
        cache_control: str,
    ) -> None:
        self.app = app
        self.cache = cache
        self.headers = [*headers, ("Cache-Control", cache_control)]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        if method not in ("GET", "HEAD") or not path.startswith(self.PREFIX):
            return self.app(environ, start_response)
        slug = path[len(self.PREFIX) :]
        version = self.cache.fresh_version(slug) if SLUG_RE.match(slug) else None
        if version is None:
            return self.app(environ, start_response)
        etag = f'"{version.etag}"'
        headers = [*self.headers, ("ETag", etag)]
        sent = _etags(environ.get("HTTP_IF_NONE_MATCH", ""))
        if etag in sent or "*" in sent:
            start_response("304 NOT MODIFIED", headers)
            return []
        body = self.cache.rendered(version.etag)
        if body is None:
            return self.app(environ, start_response)
        headers += [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        start_response("200 OK", headers)
        return [] if method == "HEAD" else [body]


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
