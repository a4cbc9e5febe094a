"""The installed wheel, run from a folder outside the checkout: it migrates, seeds and serves
pages with their CSS; and the whole production path: PostgreSQL, gunicorn behind the shipped
nginx with PROXY_HOPS=1, a $1 gift through the Stripe stand-in, the receipt sent by the worker
to an SMTP server on loopback."""

from __future__ import annotations

import http.client
import json
import re
import secrets
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from helpers.installed import (
    InstalledWheel,
    Processes,
    clean_env,
    wait_for_port,
    wait_until_ready,
)
from helpers.live_server import free_port
from helpers.nginx import Nginx, Reader
from helpers.smtp_capture import SmtpCapture

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WEBHOOK_SECRET = "whsec_deploy_test"

# Building the wheel and installing it with its dependencies into a new virtualenv happens in the
# first test that asks for it; on a machine with an empty pip cache that alone may take minutes.
pytestmark = pytest.mark.timeout(1200)


def _settings(**extra: str) -> dict[str, str]:
    return clean_env(
        APP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),  # random, as production requires
        STRIPE_SECRET_KEY="sk_test_deploy",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        RATELIMIT_STORAGE_URI="memory://",
        LOG_FORMAT="json",
        **extra,
    )


def _get(port: int, path: str) -> tuple[int, str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def test_the_installed_wheel_migrates_seeds_and_serves_pages_with_css(
    installed_wheel: InstalledWheel, tmp_path: Path, processes: Processes
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    env = _settings(DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}")
    flask = [installed_wheel.bin("flask"), "--app", "membership"]
    unlimited = {k: v for k, v in env.items() if k != "RATELIMIT_STORAGE_URI"}
    refused = subprocess.run(
        [*flask, "db", "upgrade"], cwd=elsewhere, env=unlimited, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "RATELIMIT_STORAGE_URI is not set" in refused.stderr
    installed_wheel.run([*flask, "db", "upgrade"], cwd=elsewhere, env=env)
    assert "Demo ready" in installed_wheel.run([*flask, "demo", "seed"], cwd=elsewhere, env=env)
    log = tmp_path / "gunicorn.log"
    server = processes.start(
        [installed_wheel.bin("gunicorn"), "--bind", f"127.0.0.1:{port}", "membership:create_app()"],
        cwd=elsewhere,
        env=env,
        log=log,
    )
    wait_until_ready(port, server)
    status, _, page = _get(port, "/")
    assert status == 200 and "The Observatory" in page
    css = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page)
    assert css
    status, content_type, stylesheet = _get(port, css.group(1))
    assert status == 200 and content_type.startswith("text/css") and "{" in stylesheet
    article = re.search(r'href="(/articles/[^"]+)"', page)
    assert article and _get(port, article.group(1))[0] == 200
    processes.stop_all()
    # LOG_FORMAT=json: one JSON object per request.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("logger") == "membership.requests"]
    front = [line for line in requests if line["path"] == "/"]
    assert front and front[0]["status"] == 200 and front[0]["method"] == "GET"
    assert all(len(line["request_id"]) == 32 for line in requests)
    assert not (elsewhere / "instance").exists() or not any((elsewhere / "instance").iterdir())


def _standin_admin(port: int, path: str, body: dict[str, str]) -> None:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"http://127.0.0.1:{port}/_standin/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (loopback)
        response.read()


@pytest.mark.slow
def test_a_one_dollar_gift_through_nginx_ends_in_a_receipt_sent_by_the_worker(
    installed_wheel: InstalledWheel,
    tmp_path: Path,
    processes: Processes,
    postgres_database: str,
) -> None:
    elsewhere = tmp_path / "srv"
    elsewhere.mkdir()
    app_port, standin_port = free_port(), free_port()
    nginx_folder = tmp_path / "nginx"
    nginx_folder.mkdir()
    static = installed_wheel.run(
        [installed_wheel.bin("flask"), "--app", "membership", "static-folder"],
        cwd=elsewhere,
        env=_settings(DATABASE_URL=postgres_database),
    ).strip()
    assert static.startswith(str(installed_wheel.venv))
    nginx = Nginx(nginx_folder, upstream=f"127.0.0.1:{app_port}", static_folder=static)
    with SmtpCapture() as smtp, nginx:
        env = _settings(
            DATABASE_URL=postgres_database,
            BASE_URL=nginx.origin,
            PROXY_HOPS="1",
            STRIPE_API_BASE=f"http://127.0.0.1:{standin_port}",
            MAIL_URL=smtp.url,
        )
        flask = [installed_wheel.bin("flask"), "--app", "membership"]
        installed_wheel.run([*flask, "db", "upgrade"], cwd=elsewhere, env=env)
        standin = processes.start(
            [
                installed_wheel.bin("python"), "-m", "stripe_standin",
                "--port", str(standin_port),
                "--webhook-url", f"http://127.0.0.1:{app_port}/webhooks/stripe",
                "--webhook-secret", WEBHOOK_SECRET,
            ],
            cwd=elsewhere, env=env, log=tmp_path / "standin.log",
        )  # fmt: skip
        web = processes.start(
            [
                installed_wheel.bin("gunicorn"), "--workers", "2",
                "--bind", f"127.0.0.1:{app_port}", "membership:create_app()",
            ],
            cwd=elsewhere, env=env, log=tmp_path / "web.log",
        )  # fmt: skip
        worker = processes.start(
            [*flask, "worker", "--poll", "0.2"], cwd=elsewhere, env=env, log=tmp_path / "worker.log"
        )
        wait_for_port(standin_port, standin)
        wait_until_ready(app_port, web)

        reader = Reader(nginx, "127.0.0.2")
        page = reader.get("/support")
        token = CSRF.search(page.text)
        assert page.status == 200 and token
        started = reader.post(
            "/support",
            form={
                "csrf_token": token.group(1),
                "frequency": "once",
                "amount_choice": "other",
                "other_amount": "1",
                "email": "one.dollar@example.org",
                "website": "",
            },
        )
        assert started.status == 303, started.text[:500]
        session_id = started.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        _standin_admin(standin_port, f"checkout/{session_id}/pay", {"card": "success"})

        messages = smtp.wait_for(1, timeout=120)
        log = (tmp_path / "worker.log").read_text()[-2000:]
        assert {m["To"] for m in messages} == {"one.dollar@example.org"}, log
        # The worker's lifecycle job may welcome the new supporter in the same outbox batch (it
        # runs as the worker starts); the receipt is there exactly once either way.
        receipts = [m for m in messages if str(m["Subject"]).startswith("Your receipt from")]
        others = [str(m["Subject"]) for m in messages if m not in receipts]
        assert len(receipts) == 1 and set(others) <= {"Welcome to The Observatory"}, log
        receipt = receipts[0]
        body = receipt.get_body(("plain",))
        assert body is not None and "$1.00" in body.get_content()

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        worker_log = (tmp_path / "worker.log").read_text()
        assert "worker: stopped" in worker_log
        jobs = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
        assert {"stripe_sync", "renewal_reminders", "purge_sign_in_links"} <= {
            line.get("job") for line in jobs
        }
