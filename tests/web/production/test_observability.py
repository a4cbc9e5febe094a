"""Observability: a log line per request with a request id that reaches Stripe and stored webhook
errors; JSON logs; /metrics behind a bearer token; /healthz/ready checks the database and the
rate-limit storage."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.live_server import free_port
from helpers.payments import give, make_event, post_event, session_id_from
from membership.extensions import db
from membership.logs import JsonFormatter, RequestIdFilter, request_id_scope
from membership.models import EmailMessage, EmailStatus, JobLease, StripeEvent
from membership.services.outbox import enqueue_email
from stripe_standin import StandinServer

TOKEN = "metrics-token-for-the-test-suite"


def test_every_request_gets_an_id_and_one_log_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="membership.requests"):
        mine = client.get("/healthz", headers={"X-Request-ID": "nginx-0123456789abcdef"})
        forged = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert mine.headers["X-Request-ID"] == "nginx-0123456789abcdef"
    assert (
        forged.headers["X-Request-ID"] != "<script>" and len(forged.headers["X-Request-ID"]) == 32
    )
    lines = [r for r in caplog.records if r.name == "membership.requests"]
    assert [(r.method, r.path, r.status) for r in lines] == [  # type: ignore[attr-defined]
        ("GET", "/healthz", 200),
        ("GET", "/healthz", 200),
    ]


def test_json_log_lines_carry_the_request_id_and_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "membership.requests", "levelname": "INFO", "msg": "GET / 200", "status": 200}
    )
    with request_id_scope("abc123def456"):
        RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc123def456"
    assert line["status"] == 200 and line["message"] == "GET / 200"
    assert line["level"] == "info" and line["logger"] == "membership.requests"


def test_the_request_id_reaches_stripe_as_metadata(
    client: FlaskClient, standin: StandinServer
) -> None:
    page = give(client, amount="100")
    assert page.status_code == 303
    with standin.store.lock:
        checkout = standin.store.get("checkout.session", session_id_from(page))
    assert checkout["metadata"]["request_id"] == page.headers["X-Request-ID"]


def test_a_stored_webhook_error_names_the_request(client: FlaskClient, app_context: None) -> None:
    event = make_event("charge.refunded", {"object": "charge", "amount": 1}, event_id="evt_traced")
    response = post_event(client, event)
    assert response.status_code == 503
    stored = db.session.get(StripeEvent, "evt_traced")
    assert stored is not None
    assert (stored.error or "").startswith(f"[request {response.headers['X-Request-ID']}] ")


def test_metrics_are_off_without_a_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(app_factory: Callable[..., Flask]) -> None:
    client = app_factory(metrics_token=TOKEN).test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and b"membership_" not in wrong.data


def test_metrics_report_queues_failures_sync_age_and_todays_gifts(
    app_factory: Callable[..., Flask], client: FlaskClient
) -> None:
    app = app_factory(metrics_token=TOKEN)
    now = datetime.now(UTC)
    with app.app_context():
        for n in range(3):
            enqueue_email(
                db.session(),
                kind="test",
                to=f"r{n}@example.org",
                subject="s",
                text="t",
                now=now - timedelta(minutes=10 * n),
            )
        failed = enqueue_email(db.session(), kind="test", to="x@example.org", subject="s", text="t")
        assert failed is not None
        failed.status = EmailStatus.FAILED
        db.session.add(
            JobLease(
                name="stripe_sync",
                period_done=True,
                failures=0,
                last_succeeded_at=now - timedelta(minutes=30),
            )
        )
        db.session.commit()
    event = make_event("charge.refunded", {"object": "charge", "amount": 1}, event_id="evt_bad")
    assert post_event(client, event).status_code == 503
    assert give(client, amount="100").status_code == 303  # a checkout, not yet a donation
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    figures = {
        line.split()[0]: float(line.split()[1])
        for line in response.get_data(as_text=True).splitlines()
        if line and not line.startswith("#")
    }
    assert figures["membership_outbox_waiting"] == 3
    assert 1190 <= figures["membership_outbox_oldest_age_seconds"] < 1300
    assert figures["membership_emails_failed"] == 1
    assert figures["membership_webhook_events_failed"] == 1
    assert figures["membership_webhook_events_unprocessed"] == 1
    assert 1790 <= figures["membership_stripe_sync_age_seconds"] < 1900
    assert figures["membership_donations_today"] == 0
    assert figures["membership_donations_today_cents"] == 0
    with app.app_context():
        assert db.session.query(EmailMessage).count() == 4


def test_ready_checks_the_database_and_the_limit_storage(
    client: FlaskClient, app_factory: Callable[..., Flask]
) -> None:
    ok = client.get("/healthz/ready")
    assert (ok.status_code, ok.get_json()["status"]) == (200, "ok")
    redis_down = app_factory(ratelimit_storage_uri=f"redis://127.0.0.1:{free_port()}/0")
    answer = redis_down.test_client().get("/healthz/ready")
    assert answer.status_code == 503
    assert answer.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "rate_limit_storage": "unreachable",
    }
    assert redis_down.test_client().get("/healthz").status_code == 200  # liveness stays cheap
    db_down = app_factory(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    answer = db_down.test_client().get("/healthz/ready")
    assert answer.status_code == 503 and answer.get_json()["database"] == "unreachable"
