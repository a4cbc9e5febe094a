"""Setting up a Stripe account for us: its webhook endpoint and billing portal configuration.

Used by `flask stripe setup` only; the objects are parsed here, like every Stripe object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import stripe

from membership.payments.fields import Fields
from membership.payments.gateway import StripeGateway

# The portal configuration we own is recognised by this metadata, so a second run updates it.
PORTAL_MARKER = {"managed_by": "membership-service"}
# What supporters may do on Stripe's portal: change their card, see their invoices. Changing or
# cancelling a gift happens on our account page, so our rows always know.
PORTAL_FEATURES = {
    "payment_method_update": {"enabled": True},
    "invoice_history": {"enabled": True},
    "customer_update": {"enabled": False},
    "subscription_cancel": {"enabled": False},
    "subscription_update": {"enabled": False},
    "subscription_pause": {"enabled": False},
}


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str | None
    api_version: str | None
    enabled_events: tuple[str, ...]
    status: str | None
    secret: str | None  # only in the answer to its creation

    @classmethod
    def parse(cls, data: object) -> WebhookEndpoint:
        f = Fields(data, "webhook endpoint")
        events = f.raw("enabled_events")
        return cls(
            id=f.required_text("id"),
            url=f.text("url"),
            api_version=f.text("api_version"),
            enabled_events=tuple(e for e in events if isinstance(e, str))
            if isinstance(events, list)
            else (),
            status=f.text("status"),
            secret=f.text("secret"),
        )


@dataclass(frozen=True)
class PortalConfiguration:
    id: str
    active: bool
    is_default: bool
    ours: bool
    enabled_features: tuple[str, ...]

    @classmethod
    def parse(cls, data: object) -> PortalConfiguration:
        f = Fields(data, "billing portal configuration")
        metadata = f.nested("metadata")
        features = f.nested("features")
        return cls(
            id=f.required_text("id"),
            active=f.flag("active"),
            is_default=f.flag("is_default"),
            ours=all(metadata.text(k) == v for k, v in PORTAL_MARKER.items()),
            enabled_features=tuple(
                name for name in PORTAL_FEATURES if features.nested(name).flag("enabled")
            ),
        )


class AccountSetup:
    """The few account-level calls `stripe setup` makes, through the gateway's one client."""

    def __init__(self, gateway: StripeGateway) -> None:
        self._gateway = gateway

    @staticmethod
    def library_api_version() -> str:
        """The API version the installed library speaks: what our parsers are written for."""
        return str(stripe.api_version)

    def webhook_endpoints(self) -> list[WebhookEndpoint]:
        api = self._gateway.api()
        return list(
            self._gateway.paged(
                "webhook endpoints", WebhookEndpoint.parse, api.v1.webhook_endpoints.list, {}
            )
        )

    def create_webhook_endpoint(self, url: str, events: Iterable[str]) -> WebhookEndpoint:
        return self._gateway.call(
            "webhook endpoint",
            WebhookEndpoint.parse,
            self._gateway.api().v1.webhook_endpoints.create,
            params={
                "url": url,
                "enabled_events": sorted(events),
                "api_version": self.library_api_version(),
                "description": "The membership service (flask stripe setup)",
            },
        )

    def update_webhook_endpoint(self, endpoint_id: str, events: Iterable[str]) -> WebhookEndpoint:
        return self._gateway.call(
            "webhook endpoint",
            WebhookEndpoint.parse,
            self._gateway.api().v1.webhook_endpoints.update,
            endpoint_id,
            params={"enabled_events": sorted(events), "disabled": False},
        )

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        self._gateway.call(
            "webhook endpoint",
            lambda answer: answer,
            self._gateway.api().v1.webhook_endpoints.delete,
            endpoint_id,
        )

    def portal_configurations(self) -> list[PortalConfiguration]:
        api = self._gateway.api()
        return list(
            self._gateway.paged(
                "portal configurations",
                PortalConfiguration.parse,
                api.v1.billing_portal.configurations.list,
                {},
            )
        )

    def save_portal_configuration(
        self, existing_id: str | None, *, return_url: str, headline: str
    ) -> PortalConfiguration:
        params = {
            "features": PORTAL_FEATURES,
            "default_return_url": return_url,
            "business_profile": {"headline": headline},
            "metadata": PORTAL_MARKER,
        }
        configurations = self._gateway.api().v1.billing_portal.configurations
        if existing_id is None:
            return self._gateway.call(
                "portal configuration",
                PortalConfiguration.parse,
                configurations.create,
                params=params,
            )
        return self._gateway.call(
            "portal configuration",
            PortalConfiguration.parse,
            configurations.update,
            existing_id,
            params={**params, "active": True},
        )
