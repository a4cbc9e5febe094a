"""The stand-in's Flask app: one store, the Stripe-shaped API, the hosted pages, the admin endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from stripe_standin import admin, api, pages
from stripe_standin.store import Store
from stripe_standin.webhooks import DEFAULT_CONCURRENCY, DEFAULT_TIME_SCALE, Deliverer

EXTENSION = "stripe_standin"


@dataclass
class StandinConfig:
    """``public_url`` is where the stand-in is reachable (used in hosted page URLs).

    ``webhook_time_scale`` compresses Stripe's retry schedule (three days; 1.0 is real time) and
    ``webhook_concurrency`` is how many deliveries run at once.
    """

    public_url: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_time_scale: float = DEFAULT_TIME_SCALE
    webhook_concurrency: int = DEFAULT_CONCURRENCY


def get_store(app: Flask) -> Store:
    store: Store = app.extensions[EXTENSION]
    return store


def create_standin_app(config: StandinConfig) -> Flask:
    """Build the stand-in Flask app. State lives in ``app.extensions["stripe_standin"]``."""
    app = Flask("stripe_standin")
    deliverer = Deliverer(
        time_scale=config.webhook_time_scale, concurrency=config.webhook_concurrency
    )
    store = Store(config.public_url, config.webhook_url, config.webhook_secret, deliverer)
    app.extensions[EXTENSION] = store
    api.register(app, store)
    pages.register(app, store)
    admin.register(app, store)
    return app
