from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.webhooks import Receiver
from membership.config import Config


@pytest.fixture
def config(config: Config) -> Config:
    """The suite's settings, with webhooks allowed to loopback, where the test receivers listen."""
    return config.with_overrides(webhooks_allow_private=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on a free loopback port."""
    with Receiver() as running:
        yield running
