"""Baseline for bench/webhooks.py: a bare Flask endpoint that only verifies the Stripe signature and
inserts the event row (ON CONFLICT DO NOTHING), on the same database and schema as the app."""

import json
import os
from datetime import UTC, datetime

import stripe
from flask import Flask, request
from sqlalchemy import create_engine, text

SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]
URL = os.environ["DATABASE_URL"]
engine = create_engine(URL, connect_args={"timeout": 15} if URL.startswith("sqlite") else {})
app = Flask(__name__)
INSERT = text(
    "INSERT INTO stripe_event (id, type, created, payload, received_at) "
    "VALUES (:id, :type, :created, :payload, :received_at) ON CONFLICT (id) DO NOTHING"
)


@app.get("/healthz")
def healthz() -> str:
    return "ok"


@app.post("/webhooks/stripe")
def receive() -> tuple[str, int]:
    payload = request.get_data()
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode(), request.headers.get("Stripe-Signature", ""), SECRET, tolerance=300
        )
    except stripe.SignatureVerificationError:
        return "bad signature", 400
    event = json.loads(payload)
    with engine.begin() as connection:
        connection.execute(
            INSERT,
            {
                "id": event["id"],
                "type": event["type"],
                "created": datetime.fromtimestamp(event["created"], tz=UTC),
                "payload": payload.decode(),
                "received_at": datetime.now(UTC),
            },
        )
    return "ok", 200
