"""`flask outbox work`: one pass with --once, a loop that stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from helpers.factories import make_email
from helpers.smtp_capture import SmtpCapture
from membership.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def test_cli_work_once_delivers_everything_due(
    app_factory: Callable[..., Flask], smtp: SmtpCapture
) -> None:
    worker_app = app_factory(mail_url=smtp.url)
    with worker_app.app_context():
        for n in range(5):
            make_email(n, now=None)
    result = worker_app.test_cli_runner().invoke(args=["outbox", "work", "--once", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "outbox: sent 2, will retry 0, failed 0",
        "outbox: sent 2, will retry 0, failed 0",
        "outbox: sent 1, will retry 0, failed 0",
    ]
    assert sorted(m["Subject"] for m in smtp.messages) == [f"Message {n}" for n in range(5)]
    again = worker_app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert again.exit_code == 0 and again.output == ""


def test_cli_work_once_without_mail_url_prints_the_mail(app: Flask) -> None:
    with app.app_context():
        make_email(1, subject="Welcome", now=None)
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "Subject: Welcome" in result.output
    assert "outbox: sent 1, will retry 0, failed 0" in result.output


def test_cli_refuses_a_bad_mail_url(app_factory: Callable[..., Flask]) -> None:
    result = (
        app_factory(mail_url="ftp://x").test_cli_runner().invoke(args=["outbox", "work", "--once"])
    )
    assert result.exit_code != 0
    assert "MAIL_URL must start with" in result.output


def test_cli_worker_loops_until_sigterm(app: Flask, config: Config, smtp: SmtpCapture) -> None:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "SECRET_KEY": config.secret_key,
        "DATABASE_URL": config.database_url,
        "MAIL_URL": smtp.url,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "work", "--poll", "0.05"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with app.app_context():
            make_email(1, now=None)
            # The first mail waits for the worker process to start, slow on a loaded machine.
            assert len(smtp.wait_for(1, timeout=60)) == 1
            make_email(2, now=None)
            assert len(smtp.wait_for(2)) == 2
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    assert out.count("outbox: sent 1, will retry 0, failed 0") == 2
