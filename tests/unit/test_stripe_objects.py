"""Stripe's JSON read at the boundary: current and older API shapes, expanded ids, nulls where
objects used to be, and objects we cannot use, which fail with a clear StripeDataError."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from membership.payments.disputes import Dispute
from membership.payments.events import Event
from membership.payments.objects import (
    Charge,
    CheckoutSession,
    Customer,
    GiftMetadata,
    Invoice,
    StripeDataError,
    SubscriptionSnapshot,
)

T0 = 1_790_000_000


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_a_paid_checkout_session_with_expanded_ids() -> None:
    checkout = CheckoutSession.parse(
        {
            "id": "cs_1",
            "object": "checkout.session",
            "mode": "payment",
            "payment_status": "paid",
            "amount_total": 546,
            "currency": "usd",
            "customer": {"id": "cus_1", "object": "customer"},  # expanded
            "customer_details": {"email": "Typed@Example.org", "name": "Ada"},
            "customer_email": "prefilled@example.org",
            "client_reference_id": "12",
            "metadata": {"intent_id": "12", "gift_cents": "500", "fee_cents": "46"},
            "payment_intent": "pi_1",
            "subscription": None,
            "created": T0,
        }
    )
    assert checkout.paid_one_off
    assert (checkout.customer_id, checkout.payment_intent_id) == ("cus_1", "pi_1")
    # What the payer typed on Stripe's page wins over the address we prefilled.
    assert (checkout.payer_email, checkout.payer_name) == ("Typed@Example.org", "Ada")
    assert checkout.gift == GiftMetadata(intent_id=12, gift_cents=500, fee_cents=46)
    assert checkout.created == _at(T0)


def test_a_paid_checkout_session_without_its_amount_is_refused() -> None:
    with pytest.raises(StripeDataError, match="cs_2 is paid but has no amount_total"):
        CheckoutSession.parse({"id": "cs_2", "mode": "payment", "payment_status": "paid"})
    # Unpaid (a delayed method), it is fine: nothing is recorded from it yet.
    assert CheckoutSession.parse({"id": "cs_3", "mode": "payment"}).amount_total is None


@pytest.mark.parametrize(
    "data",
    [None, [], "cs_1", {"object": "checkout.session"}, {"id": 42}, {"id": ""}],
)
def test_an_object_without_a_usable_id_is_a_clear_error(data: Any) -> None:
    with pytest.raises(StripeDataError, match="checkout session"):
        CheckoutSession.parse(data)


def test_metadata_we_did_not_write_reads_as_nothing() -> None:
    checkout = CheckoutSession.parse(
        {"id": "cs_4", "metadata": {"intent_id": "twelve", "gift_cents": None, "fee_cents": 1.5}}
    )
    assert checkout.gift == GiftMetadata()
    assert CheckoutSession.parse({"id": "cs_5", "metadata": None}).gift == GiftMetadata()


def test_a_timestamp_that_is_not_one_is_a_clear_error() -> None:
    with pytest.raises(StripeDataError, match=r"checkout session\.created is not a Unix time"):
        CheckoutSession.parse({"id": "cs_6", "created": "yesterday"})


def test_a_subscription_in_the_current_shape() -> None:
    snapshot = SubscriptionSnapshot.parse(
        {
            "id": "sub_1",
            "status": "active",
            "customer": "cus_1",
            "currency": "usd",
            "cancel_at_period_end": False,
            "canceled_at": None,
            "ended_at": None,
            "pause_collection": {"behavior": "void", "resumes_at": T0 + 60},
            "start_date": T0,
            "created": T0,
            "metadata": {"gift_cents": "500", "fee_cents": "46"},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": "si_1",
                        "current_period_end": T0 + 3600,
                        "price": {
                            "id": "price_1",
                            "unit_amount": 546,
                            "product": {"id": "prod_1", "object": "product"},
                            "recurring": {"interval": "month"},
                        },
                    }
                ],
            },
        }
    )
    assert (snapshot.amount_cents, snapshot.interval) == (546, "month")
    assert (snapshot.item_id, snapshot.product_id) == ("si_1", "prod_1")
    assert snapshot.current_period_end == _at(T0 + 3600)
    assert snapshot.paused_until == _at(T0 + 60)
    assert snapshot.gift == GiftMetadata(gift_cents=500, fee_cents=46)


def test_a_subscription_in_an_older_shape_with_a_plan_and_top_level_period() -> None:
    snapshot = SubscriptionSnapshot.parse(
        {
            "id": "sub_2",
            "status": "past_due",
            "current_period_end": T0 + 7200,
            "pause_collection": None,
            "items": {"data": [{"id": "si_2", "plan": {"amount": 1200, "interval": "year"}}]},
        }
    )
    assert (snapshot.amount_cents, snapshot.interval) == (1200, "year")
    assert snapshot.current_period_end == _at(T0 + 7200)
    assert snapshot.paused_until is None and snapshot.product_id is None


def test_a_subscription_without_items_has_no_price() -> None:
    snapshot = SubscriptionSnapshot.parse({"id": "sub_3", "items": None})
    assert (snapshot.amount_cents, snapshot.interval, snapshot.item_id) == (None, None, None)
    with pytest.raises(StripeDataError, match=r"subscription\.items\.data is not a list"):
        SubscriptionSnapshot.parse({"id": "sub_4", "items": {"data": "si_1"}})


def test_an_invoice_of_the_current_api_version() -> None:
    invoice = Invoice.parse(
        {
            "id": "in_1",
            "status": "paid",
            "billing_reason": "subscription_cycle",
            "amount_paid": 546,
            "parent": {
                "type": "subscription_details",
                "subscription_details": {
                    "subscription": "sub_1",
                    "metadata": {"intent_id": "7", "gift_cents": "500", "fee_cents": "46"},
                },
            },
            "payments": {
                "data": [{"payment": {"type": "payment_intent", "payment_intent": {"id": "pi_9"}}}]
            },
            "status_transitions": {"paid_at": T0},
        }
    )
    assert (invoice.subscription_id, invoice.payment_intent_id) == ("sub_1", "pi_9")
    assert invoice.subscription_gift == GiftMetadata(7, 500, 46)
    assert invoice.paid_at == _at(T0)


def test_a_pre_basil_invoice_with_null_subscription_details_reads_as_no_subscription() -> None:
    """Issue 11, item 6: this shape raised AttributeError deep in the ledger."""
    invoice = Invoice.parse(
        {
            "id": "in_2",
            "amount_paid": 1000,
            "subscription": None,
            "subscription_details": None,
            "payment_intent": "pi_2",
            "status_transitions": None,
        }
    )
    assert invoice.subscription_id is None
    assert invoice.subscription_gift == GiftMetadata()
    assert (invoice.payment_intent_id, invoice.paid_at) == ("pi_2", None)


def test_a_pre_basil_invoice_of_a_subscription() -> None:
    invoice = Invoice.parse(
        {
            "id": "in_3",
            "subscription": "sub_3",
            "subscription_details": {"metadata": {"intent_id": "3"}},
            "amount_paid": None,
        }
    )
    assert (invoice.subscription_id, invoice.subscription_gift.intent_id) == ("sub_3", 3)
    assert invoice.amount_paid == 0


def test_charge_dispute_and_customer() -> None:
    charge = Charge.parse(
        {
            "id": "ch_1",
            "payment_intent": "pi_1",
            "amount": 2000,
            "amount_refunded": 500,
            "refunds": {"data": [{"id": "re_1", "status": "pending", "amount": 500}]},
        }
    )
    assert (charge.amount_refunded, [r.status for r in charge.refunds]) == (500, ["pending"])
    dispute = Dispute.parse(
        {
            "id": "dp_1",
            "charge": "ch_1",
            "amount": 1500,
            "status": "needs_response",
            "reason": "fraudulent",
            "evidence_details": {"due_by": T0},
        }
    )
    assert (dispute.charge_id, dispute.evidence_due_by) == ("ch_1", _at(T0))
    assert Dispute.parse({"id": "dp_2", "evidence_details": None}).evidence_due_by is None
    blanked = Customer.parse({"id": "cus_1", "email": "", "name": None})
    assert (blanked.email, blanked.name) == (None, None)


def test_an_event_envelope_keeps_its_object_raw_for_its_handler() -> None:
    event = Event.parse({"id": "evt_1", "type": "invoice.paid", "created": T0, "data": None})
    assert (event.type, event.created, event.data_object) == ("invoice.paid", _at(T0), None)
    with pytest.raises(StripeDataError, match="not a Stripe event"):
        Event.parse({"type": "invoice.paid"})
