"""GET /metrics in the Prometheus text format, behind a bearer token (off without METRICS_TOKEN)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from membership.blueprints import app_config
from membership.caching import set_no_store
from membership.extensions import db, limiter
from membership.models import utcnow
from membership.services.operations import operational_figures

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    config = app_config()
    if not config.metrics_token:
        abort(404)
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {config.metrics_token}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        response = Response("metrics need the bearer token\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return set_no_store(response)
    figures = operational_figures(db.session(), now=utcnow(), zone=config.zone)
    # A registry per scrape: every figure is read from the database now, none kept in memory.
    registry = CollectorRegistry()

    def gauge(name: str, help_text: str, value: float) -> None:
        Gauge(name, help_text, registry=registry).set(value)

    gauge("membership_outbox_waiting", "Emails queued or being sent", figures.outbox_waiting)
    gauge(
        "membership_outbox_oldest_age_seconds",
        "Age of the oldest email waiting (0 when none waits)",
        figures.outbox_oldest_age_seconds,
    )
    gauge("membership_emails_failed", "Emails given up on", figures.emails_failed)
    gauge(
        "membership_webhook_events_failed",
        "Stripe events stored with an error and not applied",
        figures.webhook_events_failed,
    )
    gauge(
        "membership_webhook_events_unprocessed",
        "Stripe events stored and not applied",
        figures.webhook_events_unprocessed,
    )
    if figures.seconds_since_stripe_sync is not None:
        gauge(
            "membership_stripe_sync_age_seconds",
            "Seconds since the last successful stripe sync (absent: never)",
            figures.seconds_since_stripe_sync,
        )
    gauge("membership_donations_today", "Donations paid today (local day)", figures.donations_today)
    gauge(
        "membership_donations_today_cents",
        "Amount of today's donations, fees included, in the currency's minor unit",
        figures.donations_today_cents,
    )
    return set_no_store(Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST))


limiter.exempt(metrics)
