"""Fixtures of the deployment tests: the wheel installed once a session, processes stopped after
each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.installed import InstalledWheel, Processes, build_and_install


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """`pip wheel --no-deps .`, then `pip install` of that file into a new virtualenv."""
    return build_and_install(tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def processes() -> Iterator[Processes]:
    running = Processes()
    yield running
    running.stop_all()
