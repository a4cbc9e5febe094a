"""The stand-in's Flask app: one store, the Stripe-shaped API, the hosted pages, the admin endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from stripe_standin import admin, api, pages
from stripe_standin.store import Store

EXTENSION = "stripe_standin"


@dataclass
class StandinConfig:
    """``public_url`` is where the stand-in is reachable (used in hosted page URLs)."""

    public_url: str
    webhook_url: str | None = None
    webhook_secret: str | None = None


def get_store(app: Flask) -> Store:
    store: Store = app.extensions[EXTENSION]
    return store


def create_standin_app(config: StandinConfig) -> Flask:
    """Build the stand-in Flask app. State lives in ``app.extensions["stripe_standin"]``."""
    app = Flask("stripe_standin")
    store = Store(config.public_url, config.webhook_url, config.webhook_secret)
    app.extensions[EXTENSION] = store
    api.register(app, store)
    pages.register(app, store)
    admin.register(app, store)
    return app
