"""Chromium for the browser tests; every test in this folder carries the `browser` marker, so
`-m "not browser"` leaves them out and `-m browser` runs only them. Every HTML page a browser test
loads from the app is checked with the Nu HTML checker after the test: 0 errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.browser import CHROMIUM, CHROMIUM_ARGS
from helpers.html_checker import NuChecker, PageRecorder
from stripe_standin import StandinServer

HERE = Path(__file__).resolve().parent


# First, so that `-m` deselects by a marker the items already carry.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def html_checker() -> Iterator[NuChecker]:
    try:
        checker = NuChecker()
    except RuntimeError as missing:
        pytest.fail(str(missing))
    yield checker
    checker.close()


@pytest.fixture(scope="session")
def browser(html_checker: NuChecker, standin: StandinServer) -> Iterator[PageRecorder]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield PageRecorder(browser, skip_origins=(standin.url,))
        browser.close()


@pytest.fixture(autouse=True)
def pages_are_valid_html(request: pytest.FixtureRequest, html_checker: NuChecker) -> Iterator[None]:
    """After each browser test: every page it loaded has no Nu HTML checker error."""
    if "browser" not in request.fixturenames:
        yield
        return
    recorder: PageRecorder = request.getfixturevalue("browser")
    recorder.pages.clear()
    yield
    problems = {
        url: errors for url, html in recorder.pages if (errors := html_checker.errors(html))
    }
    recorder.pages.clear()
    assert problems == {}, "Nu HTML checker errors:\n" + "\n".join(
        f"{url}\n  " + "\n  ".join(errors) for url, errors in problems.items()
    )
