"""Cross-cutting API behaviour: auth, idempotency, events, deliveries, faults."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe

from stripe_standin import StandinServer


def test_missing_or_bad_auth(server: StandinServer, http: Any) -> None:
    bad = stripe.StripeClient("pk_live_nope", base_addresses={"api": server.url})
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.customers.list()
    status, _h, text = http.request("GET", "/v1/customers")
    assert status == 401 and json.loads(text)["error"]["type"] == "invalid_request_error"
    status, _h, _t = http.request(
        "GET", "/v1/customers", headers={"Authorization": "Bearer rk_test_ok"}
    )
    assert status == 200


def test_customers_crud(client: stripe.StripeClient, server: Any, receiver: Any) -> None:
    cust = client.v1.customers.create(
        params={"email": "a@example.org", "name": "Ada", "metadata": {"member": "1"}}
    )
    assert cust.id.startswith("cus_") and cust.livemode is False
    updated = client.v1.customers.update(
        cust.id,
        params={"name": "", "phone": "+4912345", "address": {"city": "Berlin"}},
    )
    assert updated.name is None and updated.phone == "+4912345"
    assert updated.address.city == "Berlin"  # type: ignore[union-attr]
    found = client.v1.customers.list(params={"email": "a@example.org"})
    assert [c.id for c in found.data] == [cust.id]
    assert client.v1.customers.list(params={"email": "b@example.org"}).data == []
    server.flush()
    assert receiver.types() == ["customer.created", "customer.updated"]


def test_idempotency_replay(client: stripe.StripeClient, payment_session: Any) -> None:
    params: Any = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 900,
                    "product_data": {"name": "Donation"},
                },
                "quantity": 1,
            }
        ],
        "success_url": "http://app.test/ok",
        "cancel_url": "http://app.test/no",
    }
    options: Any = {"idempotency_key": "donation-intent-77"}
    first = client.v1.checkout.sessions.create(params=params, options=options)
    second = client.v1.checkout.sessions.create(params=params, options=options)
    assert first.id == second.id
    assert len(client.v1.checkout.sessions.list().data) == 1
    changed: Any = {**params, "metadata": {"other": "1"}}
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params=changed, options=options)
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={}, options=options)


def test_events_paging(client: stripe.StripeClient, server: StandinServer) -> None:
    created = [client.v1.customers.create(params={"email": f"p{i}@x.org"}) for i in range(23)]
    events = list(client.v1.events.list(params={"limit": 5}).auto_paging_iter())
    assert len(events) == 23
    emails = [e.data.object["email"] for e in events]
    assert emails == [f"p{i}@x.org" for i in reversed(range(23))]
    first = client.v1.events.list(params={"limit": 3})
    assert first.has_more and len(first.data) == 3
    after = client.v1.events.list(params={"limit": 3, "starting_after": first.data[-1].id})
    assert after.data[0].id == events[3].id
    future = client.v1.events.list(params={"created": {"gte": int(time.time()) + 3600}})
    assert future.data == []
    past = client.v1.events.list(
        params={"created": {"gte": created[0].created - 1}, "type": "customer.created"}
    )
    assert len(past.data) == 10
    assert client.v1.events.retrieve(events[0].id).type == "customer.created"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.list(params={"limit": 101})


def test_deliveries_disabled_and_resend(
    client: stripe.StripeClient, http: Any, server: StandinServer, receiver: Any
) -> None:
    http.admin("deliveries", {"enabled": False})
    client.v1.customers.create(params={"email": "lost@example.org"})
    server.flush()
    assert receiver.events == []
    listed = client.v1.events.list()
    assert [e.type for e in listed.data] == ["customer.created"]
    assert listed.data[0].pending_webhooks == 0
    assert client.v1.events.list().data[0].pending_webhooks == 0
    http.admin(f"events/{listed.data[0].id}/resend")
    server.flush()
    assert [e["id"] for e in receiver.events] == [listed.data[0].id]
    status, _h, text = http.request("GET", "/_standin/events")
    assert status == 200 and len(json.loads(text)["data"]) == 1


def test_webhook_retries_after_failures(
    client: stripe.StripeClient, server: StandinServer, receiver: Any
) -> None:
    """Stripe retries on its backoff (compressed here) well past a few seconds of failures."""
    receiver.fail_next = 6
    client.v1.customers.create(params={"email": "retry@example.org"})
    assert server.flush(10)
    assert receiver.types() == ["customer.created"] and receiver.attempts == 7
    [result] = server.store.deliverer.results[-1:]
    assert (result.ok, result.attempts) == (True, 7)


def test_webhooks_arrive_concurrently_and_out_of_order(
    client: stripe.StripeClient, server: StandinServer, receiver: Any
) -> None:
    for n in range(30):
        client.v1.customers.create(params={"email": f"order{n}@example.org"})
    assert server.flush(10)
    emitted = [e.id for e in client.v1.events.list(params={"limit": 30}).data][::-1]
    arrived = receiver.arrivals()
    assert sorted(arrived) == sorted(emitted)
    assert arrived != emitted  # 30 events in emission order would be a 1 in 30! accident


def test_a_compressed_retry_schedule_is_stripes_three_days() -> None:
    from stripe_standin.webhooks import STRIPE_RETRY_SCHEDULE, Deliverer

    assert 2.5 * 86400 < sum(STRIPE_RETRY_SCHEDULE) <= 3 * 86400
    assert Deliverer(time_scale=1.0).retry_delays == STRIPE_RETRY_SCHEDULE
    assert sum(Deliverer().retry_delays) < 5  # the default: three days in a few seconds
    with pytest.raises(ValueError, match="time_scale"):
        Deliverer(time_scale=-1)


def test_webhook_endpoint_change_and_bad_secret(
    client: stripe.StripeClient, http: Any, server: StandinServer, receiver: Any
) -> None:
    http.admin("webhooks", {"url": receiver.url, "secret": "whsec_wrong"})
    client.v1.customers.create(params={"email": "sig@example.org"})
    assert server.flush(10)
    assert receiver.events == [] and receiver.bad_signatures >= 1


def test_faults(client: stripe.StripeClient, http: Any) -> None:
    http.admin("faults", {"fail_next": 1})
    with pytest.raises(stripe.APIError):
        client.v1.customers.list()
    assert client.v1.customers.list().data == []
    http.admin("faults", {"latency_ms": 200})
    started = time.monotonic()
    client.v1.customers.list()
    assert time.monotonic() - started >= 0.2
    http.admin("faults", {"latency_ms": 0})


def test_admin_flush_and_unknown_routes(http: Any, client: stripe.StripeClient) -> None:
    assert http.admin("flush", {"timeout": 2})["ok"] is True
    status, _h, text = http.request(
        "GET", "/v1/nothing_here", headers={"Authorization": "Bearer sk_test_1"}
    )
    assert status == 404 and "Unrecognized request URL" in text
    status, _h, _t = http.request("GET", "/checkout/cs_test_missing")
    assert status == 404


def test_webhook_endpoints_show_their_secret_once(client: stripe.StripeClient) -> None:
    created = client.v1.webhook_endpoints.create(
        params={
            "url": "http://127.0.0.1:9/webhooks/stripe",
            "enabled_events": ["charge.refunded", "invoice.paid"],
            "api_version": "2026-10-28.endive",
        }
    )
    assert created.secret and created.secret.startswith("whsec_")
    assert created.api_version == "2026-10-28.endive" and created.status == "enabled"
    listed = client.v1.webhook_endpoints.retrieve(created.id)
    assert getattr(listed, "secret", None) is None
    with pytest.raises(stripe.InvalidRequestError, match="api_version"):
        client.v1.webhook_endpoints.update(created.id, params={"api_version": "2020-08-27"})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(stripe.InvalidRequestError, match="api_version"):
        client.v1.webhook_endpoints.create(
            params={"url": "http://x.test/", "enabled_events": ["*"], "api_version": "2020-08-27"}
        )
    client.v1.webhook_endpoints.delete(created.id)
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == []
