"""Helpers for money tests: the donation form through the test client, the stand-in's admin API,
and signed events posted to the real webhook endpoint."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpers.clients import csrf_token_from
from helpers.config import WEBHOOK_SECRET
from stripe_standin import StandinServer
from stripe_standin.webhooks import sign_payload


def give(
    client: FlaskClient,
    *,
    amount: str = "500",
    frequency: str = "once",
    other: str = "",
    cover_fee: bool = False,
    email: str = "reader@example.org",
    source: str = "",
    variant: str = "",
    extra: dict[str, str] | None = None,
) -> TestResponse:
    """Fill in and submit the donation form as a reader would."""
    page = client.get("/support")
    data = {
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "frequency": frequency,
        "amount_choice": amount,
        "other_amount": other,
        "email": email,
        "source": source,
        "variant": variant,
        "website": "",
    }
    if cover_fee:
        data["cover_fee"] = "y"
    data.update(extra or {})
    return client.post("/support", data=data)


def session_id_from(response: TestResponse) -> str:
    location = response.headers["Location"]
    return location.rstrip("/").rsplit("/", 1)[-1]


def admin(standin: StandinServer, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call one of the stand-in's `/_standin/...` admin endpoints."""
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{standin.url}/_standin/{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read() or b"null")


def pay(standin: StandinServer, session_id: str, *, card: str = "success", email: str = "") -> Any:
    body: dict[str, Any] = {"card": card}
    if email:
        body["email"] = email
    result = admin(standin, f"checkout/{session_id}/pay", body)
    if not standin.flush(10):
        raise AssertionError("the stand-in did not deliver its webhooks in time")
    return result


def standin_events(standin: StandinServer) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{standin.url}/_standin/events", timeout=10) as response:  # noqa: S310
        data = json.loads(response.read())
    return list(data["data"] if isinstance(data, dict) else data)


def signed_headers(
    body: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    return {
        "Stripe-Signature": sign_payload(body, secret, timestamp),
        "Content-Type": "application/json",
    }


def post_event(
    client: FlaskClient,
    event: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> TestResponse:
    body = json.dumps(event)
    return client.post(
        "/webhooks/stripe",
        data=body,
        headers=signed_headers(body, secret=secret, timestamp=timestamp),
    )


def make_event(
    event_type: str, obj: dict[str, Any], *, event_id: str, created: int | None = None
) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created if created is not None else int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
