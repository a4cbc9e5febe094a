"""The Nu HTML checker (npm `vnu-jar`, run with the machine's Java) as a local HTTP service, and a
recorder of every HTML page the browser tests load, so each test's pages are checked."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from helpers.live_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = PROJECT_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# The checker's web service takes a while to start on a busy machine; the wait is bounded.
STARTUP_SECONDS = 180


class NuChecker:
    """`java -cp vnu.jar nu.validator.servlet.Main PORT`, on loopback; started in the background
    at once, waited for on the first check."""

    def __init__(self) -> None:
        java = shutil.which("java")
        if java is None or not VNU_JAR.exists():
            raise RuntimeError("Java or node_modules/vnu-jar is missing: run `make test`")
        self.port = free_port()
        self.process = subprocess.Popen(
            [java, "-Dnu.validator.servlet.bind-address=127.0.0.1", "-cp",
             str(VNU_JAR), "nu.validator.servlet.Main", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}/"
        self.ready = False

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.ready:
            try:
                with urllib.request.urlopen(self.url, timeout=5):  # noqa: S310 (loopback)
                    self.ready = True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Nu HTML checker did not start") from None
                time.sleep(0.25)  # polling a starting server, not timing a test

    def errors(self, html: str) -> list[str]:
        """The checker's errors for one document (warnings and info are left out)."""
        self._wait_until_ready()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/?out=json",
            data=html.encode("utf-8"),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            messages = json.load(response)["messages"]
        return [
            f"line {m.get('lastLine')}: {m['message']} [{m.get('extract', '').strip()}]"
            for m in messages
            if m["type"] in ("error", "non-document-error")
        ]

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class PageRecorder:
    """Wraps the session's Playwright browser: every context it makes records the HTML documents
    it loads from the app (not the Stripe stand-in's pages, which stand in for Stripe's)."""

    def __init__(self, browser: Any, skip_origins: tuple[str, ...]) -> None:
        self._browser = browser
        self._skip = skip_origins
        self.pages: list[tuple[str, str]] = []

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        context.on("response", self._record)
        return context

    def _record(self, response: Any) -> None:
        if response.request.resource_type != "document" or response.url.startswith(self._skip):
            return
        if not 200 <= response.status < 300 and not 400 <= response.status < 500:
            return
        if not response.headers.get("content-type", "").startswith("text/html"):
            return
        self.pages.append((response.url, response.text()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)
