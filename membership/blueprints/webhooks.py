"""POST /webhooks/stripe: the only CSRF-exempt route; its signature is the authentication."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from membership.blueprints import app_config
from membership.extensions import csrf, db, limiter, payments
from membership.models import utcnow
from membership.services import stripe_webhooks
from membership.services.stripe_webhooks import Outcome, WebhookRejected

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


@bp.post("/webhooks/stripe")
def stripe_webhook() -> tuple[Response, int]:
    session = db.session()
    try:
        outcome = stripe_webhooks.receive(
            session,
            payments.gateway,
            request.get_data(cache=False),  # the raw bytes: verified before anything is parsed
            request.headers.get("Stripe-Signature", ""),
            app_config(),
            now=utcnow(),
        )
        # Also when the event failed: that stores its error, and Stripe delivers it again.
        session.commit()
    except WebhookRejected as error:
        log.warning("rejected a webhook: %s", error.detail)
        return jsonify(error="invalid signature"), 400
    except SQLAlchemyError as error:
        session.rollback()
        log.warning("webhook not stored (%s); Stripe will deliver it again", error)
        return jsonify(error="not applied, retry later"), 503
    if outcome is Outcome.FAILED:
        return jsonify(error="not applied, retry later"), 503
    return jsonify(received=outcome.value), 200


# The signature authenticates Stripe; its bursts of retries must never meet a 429.
csrf.exempt(stripe_webhook)
limiter.exempt(stripe_webhook)
