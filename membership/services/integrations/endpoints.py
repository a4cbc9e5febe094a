"""Webhook endpoints: added with the events they want and a signing secret shown once, listed,
removed; a safe URL is checked when it is added and again at every delivery."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import WebhookEndpoint
from membership.services.integrations.transport import UnsafeUrl, check_url

EVENT_TYPES = {
    "donation.created": "a payment arrived (one-off gift or a recurring payment)",
    "donation.refunded": "money was given back, in full or in part",
    "donation.disputed": "the donor's bank opened a dispute",
    "subscription.created": "a recurring gift started",
    "subscription.updated": "a recurring gift changed (amount, status, pause, renewal date)",
    "subscription.canceled": "a recurring gift was cancelled",
    "supporter.updated": "a supporter's details changed",
    "supporter.erased": "a supporter asked to be erased (personal data removed)",
    "subscriber.confirmed": "a newsletter subscriber confirmed their address",
    "subscriber.unsubscribed": "a newsletter subscriber left",
}


class EndpointError(ValueError):
    """An endpoint could not be added or removed; the message says why."""


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes, as Standard Webhooks writes secrets."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def add_endpoint(
    session: Session,
    config: Config,
    *,
    url: str,
    events: list[str],
    description: str,
    now: datetime,
) -> NewEndpoint:
    url = url.strip()
    try:
        check_url(
            url, allow_private=config.webhooks_allow_private, require_https=config.is_production
        )
    except UnsafeUrl as error:
        raise EndpointError(str(error)) from None
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise EndpointError(
            "Choose at least one event from the list"
            + (f" (there is no {', '.join(unknown)})." if unknown else ".")
        )
    if len(description) > 200:
        raise EndpointError("Keep the description under 200 characters.")
    if session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.url == url)) is not None:
        raise EndpointError("That URL already receives our webhooks; remove it first.")
    secret = new_secret()
    endpoint = WebhookEndpoint(
        url=url,
        description=description.strip(),
        events=sorted(set(events)),
        secret=secret,
        active=True,
        created_at=now,
    )
    session.add(endpoint)
    session.flush()
    return NewEndpoint(endpoint=endpoint, secret=secret)


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def remove_endpoint(session: Session, url: str) -> None:
    """Delete the endpoint and its deliveries (they cascade)."""
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.url == url.strip()))
    if endpoint is None:
        raise EndpointError(f"No endpoint has the URL {url!r}.")
    session.delete(endpoint)
    session.flush()


def reenable_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    endpoint.active = True
    endpoint.disabled_at = None
    endpoint.failing_since = None
    session.flush()
