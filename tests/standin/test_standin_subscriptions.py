"""Renewals, failed renewals and recovery, plan changes, pause, cancellation."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_standin import StandinServer


def _events(receiver: Any, event_type: str) -> list[dict[str, Any]]:
    return [e for e in receiver.events if e["type"] == event_type]


def test_renew_creates_paid_cycle_invoice(
    subscribed: Any,
    http: Any,
    client: stripe.StripeClient,
    server: StandinServer,
    receiver: Any,
    subseq: Any,
) -> None:
    sub = subscribed(1000)
    old_end = sub["items"]["data"][0]["current_period_end"]
    server.flush()
    receiver.clear()
    invoice = http.admin(f"subscriptions/{sub.id}/renew")
    assert invoice["billing_reason"] == "subscription_cycle"
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 1000
    server.flush()
    expected = [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    assert subseq(expected, receiver.types()), receiver.types()
    updated = _events(receiver, "customer.subscription.updated")[-1]
    assert "items" in updated["data"]["previous_attributes"]
    sub = client.v1.subscriptions.retrieve(sub.id)
    item = sub["items"]["data"][0]
    assert item["current_period_start"] == old_end
    assert item["current_period_end"] > old_end
    assert sub.latest_invoice == invoice["id"]
    assert invoice["lines"]["data"][0]["period"]["start"] == old_end


def test_failed_renewal_then_setup_checkout_recovers(
    subscribed: Any,
    http: Any,
    client: stripe.StripeClient,
    server: StandinServer,
    receiver: Any,
) -> None:
    sub = subscribed(800)
    server.flush()
    receiver.clear()
    invoice = http.admin(f"subscriptions/{sub.id}/fail_renewal")
    assert invoice["status"] == "open"
    server.flush()
    failed = _events(receiver, "invoice.payment_failed")[0]["data"]["object"]
    assert failed["attempt_count"] == 1
    assert failed["next_payment_attempt"] > failed["created"]
    assert failed["hosted_invoice_url"] == f"{server.url}/invoice/{invoice['id']}"
    assert failed["parent"]["subscription_details"]["subscription"] == sub.id
    updated = _events(receiver, "customer.subscription.updated")[-1]
    assert updated["data"]["object"]["status"] == "past_due"
    assert updated["data"]["previous_attributes"]["status"] == "active"
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    status, _h, page = http.request("GET", f"/invoice/{invoice['id']}")
    assert status == 200 and "open" in page

    setup = client.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "customer": str(sub.customer),
            "currency": "eur",
            "setup_intent_data": {"metadata": {"subscription_id": sub.id}},
            "success_url": "http://app.test/card-updated",
            "cancel_url": "http://app.test/account",
        }
    )
    status, _h, page = http.request("GET", f"/checkout/{setup.id}")
    assert "Save a new card" in page
    server.flush()
    receiver.clear()
    status, headers, _ = http.request("POST", f"/checkout/{setup.id}/pay", form={"card": "4242"})
    assert status == 303 and headers["location"] == "http://app.test/card-updated"
    server.flush()
    types = receiver.types()
    assert "checkout.session.completed" in types and "invoice.paid" in types
    completed = _events(receiver, "checkout.session.completed")[0]["data"]["object"]
    assert completed["mode"] == "setup" and completed["setup_intent"].startswith("seti_")
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active"
    customer = client.v1.customers.retrieve(str(sub.customer))
    pm = customer.invoice_settings.default_payment_method  # type: ignore[union-attr]
    assert pm and str(pm).startswith("pm_") and sub.default_payment_method == pm
    assert client.v1.invoices.retrieve(invoice["id"]).status == "paid"
    seti = client.v1.setup_intents.retrieve(completed["setup_intent"])
    assert seti.status == "succeeded" and seti.metadata is not None
    assert seti.metadata["subscription_id"] == sub.id


def test_portal_card_update_recovers(
    subscribed: Any,
    http: Any,
    client: stripe.StripeClient,
    server: StandinServer,
    receiver: Any,
) -> None:
    sub = subscribed(800)
    http.admin(f"subscriptions/{sub.id}/fail_renewal")
    # As at Stripe, test mode too: no portal session without a saved configuration.
    with pytest.raises(stripe.InvalidRequestError, match="save your customer portal settings"):
        client.v1.billing_portal.sessions.create(params={"customer": str(sub.customer)})
    configuration = client.v1.billing_portal.configurations.create(
        params={"features": {"payment_method_update": {"enabled": True}}}
    )
    assert configuration.is_default is False
    assert configuration.features.subscription_cancel.enabled is False
    with pytest.raises(stripe.InvalidRequestError, match="not enabled"):
        client.v1.billing_portal.sessions.create(
            params={
                "customer": str(sub.customer),
                "configuration": configuration.id,
                "flow_data": {"type": "subscription_cancel"},
            }
        )
    portal = client.v1.billing_portal.sessions.create(
        params={
            "customer": str(sub.customer),
            "return_url": "http://app.test/account",
            "configuration": configuration.id,
            "flow_data": {"type": "payment_method_update"},
        }
    )
    assert portal.configuration == configuration.id
    assert portal.object == "billing_portal.session" and portal.id.startswith("bps_")
    assert portal.url == f"{server.url}/portal/{portal.id}"
    status, _h, page = http.request("GET", f"/portal/{portal.id}")
    assert status == 200 and "no real money" in page and "past_due" in page
    assert 'href="http://app.test/account"' in page
    status, _h, page = http.request("POST", f"/portal/{portal.id}/card", form={"card": "decline"})
    assert status == 402 and "declined" in page
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    status, _h, page = http.request("POST", f"/portal/{portal.id}/card", form={"card": "success"})
    assert status == 200 and "Card saved." in page
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    server.flush()
    assert "invoice.paid" in receiver.types()


def test_change_amount_applies_at_next_renewal(
    subscribed: Any, http: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    sub = subscribed(1000)
    item = sub["items"]["data"][0]
    server.flush()
    receiver.clear()
    updated = client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [
                {
                    "id": item["id"],
                    "price_data": {
                        "currency": "eur",
                        "product": item["price"]["product"],
                        "unit_amount": 2500,
                        "recurring": {"interval": "month"},
                    },
                }
            ],
            "proration_behavior": "none",
            "metadata": {"amount_changed": "yes"},
        },
    )
    assert updated["items"]["data"][0]["price"]["unit_amount"] == 2500
    assert updated.metadata["amount_changed"] == "yes"
    assert updated.metadata["intent_id"] == "34"
    server.flush()
    event = _events(receiver, "customer.subscription.updated")[0]
    assert set(event["data"]["previous_attributes"]) == {"items", "metadata"}
    assert "invoice.paid" not in receiver.types()  # no proration, no charge now
    invoice = http.admin(f"subscriptions/{sub.id}/renew")
    assert invoice["amount_paid"] == 2500


def test_pause_and_resume(
    subscribed: Any, http: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    sub = subscribed(1000)
    paused = client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void"}}
    )
    assert paused.pause_collection.behavior == "void"  # type: ignore[union-attr]
    server.flush()
    receiver.clear()
    invoice = http.admin(f"subscriptions/{sub.id}/renew")
    assert invoice["status"] == "void" and invoice["amount_paid"] == 0
    server.flush()
    assert "invoice.paid" not in receiver.types() and "invoice.voided" in receiver.types()
    resumed = client.v1.subscriptions.update(sub.id, params={"pause_collection": ""})
    assert resumed.pause_collection is None
    server.flush()
    last = _events(receiver, "customer.subscription.updated")[-1]
    assert last["data"]["previous_attributes"]["pause_collection"]["behavior"] == "void"
    invoice = http.admin(f"subscriptions/{sub.id}/renew")
    assert invoice["status"] == "paid"


def test_cancel_at_period_end_then_renewal_ends_it(
    subscribed: Any, http: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    sub = subscribed(1000)
    end = sub["items"]["data"][0]["current_period_end"]
    updated = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert updated.cancel_at_period_end is True and updated.status == "active"
    assert updated.cancel_at == end and updated.canceled_at
    undone = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": False})
    assert undone.cancel_at_period_end is False and undone.cancel_at is None
    client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    server.flush()
    receiver.clear()
    result = http.admin(f"subscriptions/{sub.id}/renew")
    assert result["object"] == "subscription" and result["status"] == "canceled"
    assert result["ended_at"] == end
    server.flush()
    assert receiver.types() == ["customer.subscription.deleted"]
    listed = client.v1.subscriptions.list(params={"customer": str(sub.customer)})
    assert listed.data == []
    listed = client.v1.subscriptions.list(
        params={"customer": str(sub.customer), "status": "canceled"}
    )
    assert [s.id for s in listed.data] == [sub.id]


def test_cancel_now(
    subscribed: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    sub = subscribed(1000)
    canceled = client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled" and canceled.canceled_at and canceled.ended_at
    server.flush()
    assert receiver.types()[-1] == "customer.subscription.deleted"
    try:
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    except stripe.InvalidRequestError as exc:
        assert exc.http_status == 400
    else:  # pragma: no cover
        raise AssertionError("canceled subscriptions cannot be changed")


def test_a_schedule_phase_switches_the_interval_at_renewal(
    subscribed: Any, http: Any, client: stripe.StripeClient, server: StandinServer
) -> None:
    sub = subscribed(1000)
    item = sub["items"].data[0]
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    [phase] = schedule.phases
    assert (phase.start_date, phase.end_date) == (
        item.current_period_start,
        item.current_period_end,
    )
    with pytest.raises(stripe.InvalidRequestError, match="already attached to a schedule"):
        client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    client.v1.subscription_schedules.update(
        schedule.id,
        params={
            "end_behavior": "release",
            "phases": [
                {
                    "items": [{"price": phase["items"][0].price, "quantity": 1}],
                    "start_date": phase.start_date,
                    "end_date": phase.end_date,
                },
                {
                    "items": [
                        {
                            "price_data": {
                                "currency": "eur",
                                "product": item.price.product,
                                "unit_amount": 9000,
                                "recurring": {"interval": "year"},
                            },
                            "quantity": 1,
                        }
                    ],
                    "start_date": phase.end_date,
                    "metadata": {"gift_cents": "9000"},
                },
            ],
        },
    )
    unchanged = client.v1.subscriptions.retrieve(sub.id)
    assert unchanged.status == "active" and unchanged.schedule == schedule.id
    assert unchanged["items"].data[0].price.unit_amount == 1000
    invoice = http.admin(f"subscriptions/{sub.id}/renew")
    assert invoice["amount_paid"] == 9000
    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed.schedule is None and renewed.metadata["gift_cents"] == "9000"
    new_item = renewed["items"].data[0]
    assert new_item.price.recurring.interval == "year"
    assert new_item.current_period_start == item.current_period_end
    assert client.v1.subscription_schedules.retrieve(schedule.id).status == "released"
