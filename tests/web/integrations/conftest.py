from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.webhooks import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on a free loopback port."""
    with Receiver() as running:
        yield running
