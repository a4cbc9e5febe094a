"""A webhook receiver on loopback that records every request and answers what the test says,
and the helpers that add endpoints and run the delivery job."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from standardwebhooks.webhooks import Webhook

from membership.extensions import db
from membership.models import utcnow
from membership.services.integrations.delivery import WebhookReport, deliver_due_webhooks_job
from membership.services.integrations.endpoints import add_endpoint


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> Any:
        """The payload, if the signature verifies with the Standard Webhooks library."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """Answers each POST with the next of `statuses` (the last one repeats)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: list[int] = [204]
        self.answer_body = b""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(Received(dict(self.headers.items()), body))
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", str(len(receiver.answer_body)))
                self.end_headers()
                self.wfile.write(receiver.answer_body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def add_test_endpoint(app: Flask, url: str, *events: str) -> str:
    """Add an endpoint for these events; its signing secret."""
    with app.app_context():
        new = add_endpoint(
            db.session(),
            app.config["MEMBERSHIP"],
            url=url,
            events=list(events),
            description="test receiver",
            now=utcnow(),
        )
        db.session.commit()
        return new.secret


def deliver(app: Flask, *, now: datetime | None = None) -> WebhookReport:
    with app.app_context():
        report = deliver_due_webhooks_job(db.session(), app.config["MEMBERSHIP"], now=now)
        db.session.remove()
        return report
