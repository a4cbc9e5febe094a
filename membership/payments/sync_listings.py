"""What `stripe sync` reads back from Stripe: every event, Checkout Session, invoice and
subscription created since a moment, each parsed at the boundary, page by page."""

from __future__ import annotations

from collections.abc import Iterator

from membership.payments.events import Event
from membership.payments.gateway import StripeGateway
from membership.payments.objects import CheckoutSession, Invoice, SubscriptionSnapshot


def events(gateway: StripeGateway, created_since: int) -> Iterator[Event]:
    return gateway.paged(
        "events", Event.parse, gateway.api().v1.events.list, {"created": {"gte": created_since}}
    )


def checkout_sessions(gateway: StripeGateway, created_since: int) -> Iterator[CheckoutSession]:
    return gateway.paged(
        "checkout sessions",
        CheckoutSession.parse,
        gateway.api().v1.checkout.sessions.list,
        {"created": {"gte": created_since}},
    )


def invoices(gateway: StripeGateway, created_since: int) -> Iterator[Invoice]:
    return gateway.paged(
        "invoices",
        Invoice.parse,
        gateway.api().v1.invoices.list,
        {"created": {"gte": created_since}, "expand": ["data.payments"]},
    )


def subscriptions(gateway: StripeGateway, created_since: int) -> Iterator[SubscriptionSnapshot]:
    return gateway.paged(
        "subscriptions",
        SubscriptionSnapshot.parse,
        gateway.api().v1.subscriptions.list,
        {"created": {"gte": created_since}, "status": "all"},
    )
