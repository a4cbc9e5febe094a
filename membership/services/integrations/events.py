"""Outgoing events: one delivery row per interested endpoint, added in the transaction of the
change that caused it (the outbox pattern), so an event is sent if and only if the change
committed. Nothing here talks to the network; `delivery` does, later, from the worker."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from membership.models import (
    ConsentEvent,
    DeliveryStatus,
    Donation,
    DonationRefund,
    Subscriber,
    Subscription,
    Supporter,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from membership.services.integrations.representations import (
    DONATION,
    SUBSCRIBER,
    SUBSCRIPTION,
    SUPPORTER,
    DonationView,
    SubscriberView,
    iso,
)


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def emit(session: Session, event_type: str, data: dict[str, Any], *, now: datetime) -> int:
    """Queue the event for every active endpoint that asked for it; how many were queued."""
    return _emit_to(session, _endpoints_for(session, event_type), event_type, data, now=now)


def _endpoints_for(session: Session, event_type: str) -> list[WebhookEndpoint]:
    return [
        endpoint
        for endpoint in session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
        )
        if event_type in endpoint.events
    ]


def _emit_to(
    session: Session,
    endpoints: list[WebhookEndpoint],
    event_type: str,
    data: dict[str, Any],
    *,
    now: datetime,
) -> int:
    if not endpoints:
        return 0
    message_id = new_message_id()
    payload = {"type": event_type, "timestamp": iso(now), "data": data}
    for endpoint in endpoints:
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                message_id=message_id,
                event_type=event_type,
                payload=payload,
                status=DeliveryStatus.QUEUED,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
    return len(endpoints)


def _supporter_data(session: Session, supporter_id: int | None) -> dict[str, Any] | None:
    supporter = session.get(Supporter, supporter_id) if supporter_id is not None else None
    return SUPPORTER.dump(supporter) if supporter is not None else None


def donation_event(
    session: Session, event_type: str, donation: Donation, *, now: datetime | None = None
) -> int:
    # Asked first: with no endpoint for it (the usual case) the donation is not serialised.
    endpoints = _endpoints_for(session, event_type)
    if not endpoints:
        return 0
    refunds = session.scalars(
        select(DonationRefund)
        .where(DonationRefund.donation_id == donation.id)
        .order_by(DonationRefund.id)
    ).all()
    data = {
        "donation": DONATION.dump(DonationView(donation, refunds)),
        "supporter": _supporter_data(session, donation.supporter_id),
    }
    return _emit_to(session, endpoints, event_type, data, now=now or utcnow())


def subscription_event(
    session: Session, event_type: str, subscription: Subscription, *, now: datetime | None = None
) -> int:
    data = {
        "subscription": SUBSCRIPTION.dump(subscription),
        "supporter": _supporter_data(session, subscription.supporter_id),
    }
    return emit(session, event_type, data, now=now or utcnow())


def supporter_event(
    session: Session, event_type: str, supporter: Supporter, *, now: datetime | None = None
) -> int:
    return emit(session, event_type, {"supporter": SUPPORTER.dump(supporter)}, now=now or utcnow())


def subscriber_event(
    session: Session, event_type: str, subscriber: Subscriber, *, now: datetime | None = None
) -> int:
    consent = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.id)
    ).all()
    data = {"subscriber": SUBSCRIBER.dump(SubscriberView(subscriber, consent))}
    return emit(session, event_type, data, now=now or utcnow())


def forget_address_in_deliveries(session: Session, address: str) -> int:
    """On erasure: blank the person's email and name in every stored delivery that carries them
    (queued or already sent), so our copies keep no personal data either; how many changed."""
    needle = address.lower()
    text = func.lower(cast(WebhookDelivery.payload, Text))
    changed = 0
    for delivery in session.scalars(
        select(WebhookDelivery).where(text.contains(f'"{needle}"', autoescape=True))
    ):
        scrubbed = _without_address(delivery.payload, needle)
        if scrubbed != delivery.payload:
            delivery.payload = scrubbed
            changed += 1
    session.flush()
    return changed


def _without_address(value: Any, needle: str) -> Any:
    if isinstance(value, dict):
        email = value.get("email")
        person = isinstance(email, str) and email.lower() == needle
        return {
            key: None if person and key in ("email", "name") else _without_address(item, needle)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_address(item, needle) for item in value]
    return value
