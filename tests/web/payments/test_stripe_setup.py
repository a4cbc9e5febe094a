"""`flask stripe setup` against the stand-in: one webhook endpoint with exactly our events and
the library's API version, one portal configuration for cards and invoices only; run twice,
nothing changes and no secret is shown again."""

from __future__ import annotations

import re

import pytest
import stripe
from flask import Flask

from membership.services.stripe_setup import handled_events, key_mode
from membership.services.stripe_webhooks import HANDLERS
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def _client(standin: StandinServer) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_setup", base_addresses={"api": standin.url})


def test_setup_creates_then_leaves_alone(app: Flask, standin: StandinServer) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["stripe", "setup"])
    assert first.exit_code == 0, first.output
    assert "test mode: no real money" in first.output
    secret = re.search(r"STRIPE_WEBHOOK_SECRET=(whsec_\S+)", first.output)
    configuration = re.search(r"STRIPE_PORTAL_CONFIGURATION=(bpc_\w+)", first.output)
    assert secret is not None and configuration is not None
    client = _client(standin)
    [endpoint] = client.v1.webhook_endpoints.list().data
    base_url = app.config["MEMBERSHIP"].base_url
    assert endpoint.url == f"{base_url}/webhooks/stripe"
    assert sorted(endpoint.enabled_events) == sorted(HANDLERS) == handled_events()
    assert endpoint.api_version == stripe.api_version
    assert getattr(endpoint, "secret", None) is None  # Stripe shows it once, at creation
    ours = client.v1.billing_portal.configurations.retrieve(configuration.group(1))
    features = ours.features
    assert features.payment_method_update.enabled and features.invoice_history.enabled
    assert not features.subscription_cancel.enabled
    assert not features.subscription_update.enabled
    assert not features.customer_update.enabled
    assert ours.default_return_url == f"{base_url}/account"

    second = runner.invoke(args=["stripe", "setup"])
    assert second.exit_code == 0, second.output
    assert f"Webhook endpoint {endpoint.id} (unchanged)" in second.output
    assert f"configuration {ours.id} (updated)" in second.output
    assert "whsec_" not in second.output
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [endpoint.id]
    portal = [c.id for c in client.v1.billing_portal.configurations.list().data]
    assert portal.count(ours.id) == 1 and len(portal) == 2  # ours and the suite's own


def test_setup_brings_a_drifted_endpoint_back(app: Flask, standin: StandinServer) -> None:
    """Someone added events in the Dashboard: the next run restores exactly ours."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["stripe", "setup"]).exit_code == 0
    client = _client(standin)
    [endpoint] = client.v1.webhook_endpoints.list().data
    client.v1.webhook_endpoints.update(endpoint.id, params={"enabled_events": ["*"]})
    again = runner.invoke(args=["stripe", "setup"])
    assert f"Webhook endpoint {endpoint.id} (updated)" in again.output
    assert sorted(client.v1.webhook_endpoints.retrieve(endpoint.id).enabled_events) == sorted(
        HANDLERS
    )


def test_key_modes() -> None:
    assert key_mode("sk_live_abc") == key_mode("rk_live_abc") == "live"
    assert key_mode("sk_test_abc") == "test"
    assert key_mode("whatever") == "unknown"


def test_a_portal_session_needs_the_configuration(
    app: Flask, app_factory: object, standin: StandinServer
) -> None:
    """Stripe refuses portal sessions without a saved configuration, test mode too: without
    STRIPE_PORTAL_CONFIGURATION (and no default) the supporter gets a clear error."""
    from membership.payments.gateway import PaymentProviderError

    customer = _client(standin).v1.customers.create(params={"email": "p@example.org"})
    gateway = app.extensions["stripe_gateway"]
    session = gateway.create_billing_portal_session(customer.id, return_url="http://x.test/a")
    assert session.url and session.url.startswith(standin.url)
    bare = app_factory(stripe_portal_configuration="")  # type: ignore[operator]
    with pytest.raises(PaymentProviderError, match="customer portal settings"):
        bare.extensions["stripe_gateway"].create_billing_portal_session(
            customer.id, return_url="http://x.test/a"
        )
