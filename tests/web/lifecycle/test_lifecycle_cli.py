"""`flask lifecycle run`: queues what is due now and commits; a second run queues nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from helpers.factories import count, make_donation, make_supporter
from membership.models import EmailMessage, LifecycleMessage, utcnow

pytestmark = pytest.mark.usefixtures("app_context")


def test_the_command_queues_once(app: Flask) -> None:
    make_donation(make_supporter("first@example.org"), paid_at=utcnow() - timedelta(hours=1))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["lifecycle", "run"])
    assert first.exit_code == 0, first.output
    assert "welcome: 1" in first.output
    second = runner.invoke(args=["lifecycle", "run"])
    assert "welcome: 0" in second.output
    assert count(LifecycleMessage) == 1 and count(EmailMessage) == 1
