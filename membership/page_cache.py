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
from collections.abc import Callable
from dataclasses import dataclass


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
