"""POST /webhooks/stripe: the only CSRF-exempt route; its signature is the authentication."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from membership.blueprints import app_config
from membership.extensions import csrf, db, limiter, payments
from membership.payments.events import receive_event, record_event_error
from membership.payments.gateway import PaymentProviderError, WebhookSignatureError
from membership.services.donations import EventNotReady

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


@bp.post("/webhooks/stripe")
def stripe_webhook() -> tuple[Response, int]:
    payload = request.get_data(cache=False)  # the raw bytes: verify before parsing anything
    try:
        event = payments.gateway.verify_webhook(
            payload, request.headers.get("Stripe-Signature", "")
        )
    except WebhookSignatureError as error:
        log.warning("rejected a webhook: %s", error)
        return jsonify(error="invalid signature"), 400
    session = db.session()
    try:
        outcome = receive_event(session, event, gateway=payments.gateway, config=app_config())
        session.commit()
    except (EventNotReady, PaymentProviderError, SQLAlchemyError, LookupError, ValueError) as error:
        # Roll back everything the handler did; Stripe delivers the event again later.
        session.rollback()
        log.warning("webhook %s (%s) not applied: %s", event.get("id"), event.get("type"), error)
        try:
            record_event_error(session, event, f"{type(error).__name__}: {error}")
            session.commit()
        except SQLAlchemyError:
            session.rollback()
            log.exception("could not record the error of webhook %s", event.get("id"))
        return jsonify(error="not applied, retry later"), 503
    return jsonify(received=outcome.value), 200


# The signature authenticates Stripe; its bursts of retries must never meet a 429.
csrf.exempt(stripe_webhook)
limiter.exempt(stripe_webhook)
