"""Fixtures: a real stand-in server, a signature-verifying webhook receiver, a stripe client."""

from __future__ import annotations

import http.client as httpclient
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from stripe_standin import StandinServer

WEBHOOK_SECRET = "whsec_test_standin"  # noqa: S105 - test-only signing secret


class WebhookReceiver:
    """Records verified events; can be told to fail the next N deliveries."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.events: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.fail_next = 0
        self.attempts = 0
        self.lock = threading.Lock()
        self.emission_order: Callable[[], list[str]] = list
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                header = self.headers.get("Stripe-Signature", "")
                with receiver.lock:
                    receiver.attempts += 1
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        self.send_response(500)
                        self.end_headers()
                        return
                try:
                    event = stripe.Webhook.construct_event(body, header, receiver.secret)
                except (ValueError, stripe.SignatureVerificationError):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                assert self.headers.get("Content-Type", "").startswith("application/json")
                with receiver.lock:
                    receiver.events.append(json.loads(body))
                assert event.id
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/stripe"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def clear(self) -> None:
        with self.lock:
            self.events.clear()
            self.bad_signatures = 0
            self.fail_next = 0
            self.attempts = 0

    def types(self) -> list[str]:
        """The types of the events received, in the order the stand-in emitted them (it
        delivers them concurrently and in no particular order)."""
        emitted = {event_id: n for n, event_id in enumerate(self.emission_order())}
        with self.lock:
            events = sorted(self.events, key=lambda e: emitted.get(e["id"], len(emitted)))
        return [e["type"] for e in events]

    def arrivals(self) -> list[str]:
        """Event ids in the order they arrived."""
        with self.lock:
            return [e["id"] for e in self.events]


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    rec = WebhookReceiver(WEBHOOK_SECRET)
    rec.start()
    yield rec
    rec.stop()


@pytest.fixture(scope="session")
def server(receiver: WebhookReceiver) -> Iterator[StandinServer]:
    with StandinServer(webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET) as srv:

        def emitted() -> list[str]:
            with srv.store.lock:
                return [event["id"] for event in srv.store.events]

        receiver.emission_order = emitted
        yield srv
        receiver.emission_order = list


@pytest.fixture(autouse=True)
def _clean(server: StandinServer, receiver: WebhookReceiver) -> Iterator[None]:
    server.flush(10)
    server.reset()
    with server.store.lock:
        server.store.webhook_url = receiver.url
        server.store.webhook_secret = WEBHOOK_SECRET
    receiver.clear()
    yield
    server.flush(10)


@pytest.fixture
def client(server: StandinServer) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_123", base_addresses={"api": server.url}, max_network_retries=0
    )


class Http:
    """Tiny raw HTTP helper (no redirect following)."""

    def __init__(self, base: str) -> None:
        parsed = urllib.parse.urlsplit(base)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        conn = httpclient.HTTPConnection(self.host, self.port, timeout=10)
        try:
            hdrs = dict(headers or {})
            body: str | None = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            elif json_body is not None:
                body = json.dumps(json_body)
                hdrs["Content-Type"] = "application/json"
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            text = resp.read().decode()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
        finally:
            conn.close()

    def admin(self, path: str, body: Any = None) -> Any:
        status, _headers, text = self.request("POST", f"/_standin/{path}", json_body=body or {})
        assert status == 200, text
        return json.loads(text)


@pytest.fixture
def http(server: StandinServer) -> Http:
    return Http(server.url)


def is_subsequence(expected: list[str], actual: list[str]) -> bool:
    it = iter(actual)
    return all(any(a == e for a in it) for e in expected)


@pytest.fixture
def subseq() -> Any:
    return is_subsequence


@pytest.fixture
def payment_session(client: stripe.StripeClient) -> Any:
    def make(amount: int = 500, **extra: Any) -> stripe.checkout.Session:
        params: Any = {
            "mode": "payment",
            "submit_type": "donate",
            "line_items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": amount,
                        "product_data": {"name": "One-off donation"},
                    },
                    "quantity": 1,
                }
            ],
            "customer_email": "reader@example.org",
            "client_reference_id": "intent-12",
            "metadata": {"intent_id": "12"},
            "payment_intent_data": {"metadata": {"intent_id": "12"}},
            "success_url": "http://app.test/thanks?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://app.test/donate",
        }
        params.update(extra)
        return client.v1.checkout.sessions.create(params=params)

    return make


@pytest.fixture
def subscription_session(client: stripe.StripeClient) -> Any:
    def make(amount: int = 1000, interval: str = "month", **extra: Any) -> stripe.checkout.Session:
        params: Any = {
            "mode": "subscription",
            "line_items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": amount,
                        "product_data": {"name": "Monthly membership"},
                        "recurring": {"interval": interval},
                    },
                    "quantity": 1,
                }
            ],
            "customer_email": "member@example.org",
            "metadata": {"intent_id": "34"},
            "subscription_data": {"metadata": {"intent_id": "34"}},
            "success_url": "http://app.test/thanks?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://app.test/join",
        }
        params.update(extra)
        return client.v1.checkout.sessions.create(params=params)

    return make


@pytest.fixture
def subscribed(
    subscription_session: Any, http: Http, client: stripe.StripeClient, server: StandinServer
) -> Any:
    """Complete a subscription checkout; returns the Subscription."""

    def make(amount: int = 1000, interval: str = "month") -> stripe.Subscription:
        session = subscription_session(amount, interval)
        http.admin(f"checkout/{session.id}/pay", {"card": "success"})
        session = client.v1.checkout.sessions.retrieve(session.id)
        assert session.subscription
        server.flush()
        return client.v1.subscriptions.retrieve(str(session.subscription))

    return make
