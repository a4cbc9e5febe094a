"""Refunds and disputes, as Stripe's test cards drive them."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


@pytest.fixture
def paid_charge(payment_session: Any, http: Any, client: stripe.StripeClient) -> Any:
    def make(amount: int = 1000, card: str = "success") -> stripe.Charge:
        session = payment_session(amount)
        http.admin(f"checkout/{session.id}/pay", {"card": card})
        session = client.v1.checkout.sessions.retrieve(session.id)
        pi = client.v1.payment_intents.retrieve(str(session.payment_intent))
        return client.v1.charges.retrieve(str(pi.latest_charge))

    return make


def test_partial_then_full_refund_then_too_much(
    paid_charge: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    charge = paid_charge(1000)
    partial = client.v1.refunds.create(params={"charge": charge.id, "amount": 300})
    assert partial.id.startswith("re_") and partial.amount == 300
    # As at Stripe, the refund is pending when made, and settles afterwards.
    assert partial.status == "pending" and partial.charge == charge.id
    assert client.v1.refunds.retrieve(partial.id).status == "succeeded"
    charge = client.v1.charges.retrieve(charge.id)
    assert charge.amount_refunded == 300 and charge.refunded is False
    rest = client.v1.refunds.create(params={"payment_intent": str(charge.payment_intent)})
    assert rest.amount == 700
    charge = client.v1.charges.retrieve(charge.id)
    assert charge.amount_refunded == 1000 and charge.refunded is True
    assert [r.id for r in charge.refunds.data] == [rest.id, partial.id]  # type: ignore[union-attr]
    assert client.v1.refunds.retrieve(rest.id).amount == 700
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"charge": charge.id})
    assert info.value.code == "charge_already_refunded"
    server.flush()
    refunded = [e for e in receiver.events if e["type"] == "charge.refunded"]
    assert sorted(e["data"]["object"]["amount_refunded"] for e in refunded) == [300, 1000]
    refunded.sort(key=lambda e: e["data"]["object"]["amount_refunded"])
    assert refunded[0]["data"]["previous_attributes"]["amount_refunded"] == 0
    assert receiver.types().count("refund.created") == 2


def test_refund_more_than_remaining(paid_charge: Any, client: stripe.StripeClient) -> None:
    charge = paid_charge(500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 501})
    assert info.value.http_status == 400 and info.value.param == "amount"
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 0


def test_dispute_create_and_close(
    paid_charge: Any, http: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    charge = paid_charge(1500)
    dispute = http.admin(f"charges/{charge.id}/dispute")
    assert dispute["id"].startswith("dp_") and dispute["amount"] == 1500
    assert dispute["reason"] == "fraudulent" and dispute["status"] == "needs_response"
    assert client.v1.charges.retrieve(charge.id).disputed is True
    closed = http.admin(f"disputes/{dispute['id']}/close", {"status": "lost"})
    assert closed["status"] == "lost"
    server.flush()
    types = receiver.types()
    assert types.index("charge.dispute.created") < types.index("charge.dispute.closed")
    assert client.v1.disputes.retrieve(dispute["id"]).status == "lost"


def test_a_refund_of_the_refund_failing_test_card_fails(
    paid_charge: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    """4000000000005126: the refund is made (pending), then fails, and the charge's refunded
    amount goes back down, with `refund.failed` and the refund's updates."""
    charge = paid_charge(1000, card="4000000000005126")
    assert server.flush()
    receiver.clear()
    refund = client.v1.refunds.create(params={"charge": charge.id})
    assert refund.status == "pending"
    settled = client.v1.refunds.retrieve(refund.id)
    assert settled.status == "failed" and settled.failure_reason == "expired_or_canceled_card"
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 0
    listed = client.v1.refunds.list(params={"charge": charge.id})
    assert [(r.id, r.status) for r in listed.data] == [(refund.id, "failed")]
    assert server.flush()
    assert receiver.types() == [
        "charge.refunded",
        "refund.created",
        "refund.failed",
        "refund.updated",
        "charge.refund.updated",
    ]
    updated = [e for e in receiver.events if e["type"] == "charge.refund.updated"][0]
    assert updated["data"]["object"]["object"] == "refund"  # Stripe's refund, not the charge
    assert updated["data"]["previous_attributes"]["status"] == "pending"


def test_the_fraudulent_dispute_test_card_withdraws_the_money_and_the_fee(
    paid_charge: Any, http: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    assert server.flush()
    receiver.clear()
    charge = paid_charge(2000, card="4000000000000259")
    assert server.flush()
    types = receiver.types()
    # The bank disputes the charge as soon as it succeeds: before the session completes.
    assert types[types.index("charge.succeeded") + 1 :][:2] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]
    dispute = client.v1.disputes.list().data[0]
    assert (dispute.charge, dispute.status, dispute.amount) == (charge.id, "needs_response", 2000)
    assert dispute.is_charge_refundable is False
    [withdrawn] = dispute.balance_transactions
    assert (withdrawn.amount, withdrawn.fee, withdrawn.net) == (-2000, 1500, -3500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"charge": charge.id})
    assert info.value.code == "charge_disputed"
    http.admin(f"disputes/{dispute.id}/update", {"status": "under_review"})
    http.admin(f"disputes/{dispute.id}/close", {"status": "won"})
    assert server.flush()
    assert receiver.types()[-3:] == [
        "charge.dispute.updated",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
    ]
    won = client.v1.disputes.retrieve(dispute.id)
    assert won.status == "won"
    assert [(t.amount, t.fee) for t in won.balance_transactions] == [(-2000, 1500), (2000, 0)]


def test_the_inquiry_test_card_opens_an_inquiry_that_moves_no_money(
    paid_charge: Any, http: Any, client: stripe.StripeClient, server: Any, receiver: Any
) -> None:
    assert server.flush()
    receiver.clear()
    charge = paid_charge(1000, card="4000000000001976")
    dispute = client.v1.disputes.list().data[0]
    assert (dispute.charge, dispute.status) == (charge.id, "warning_needs_response")
    assert dispute.balance_transactions == [] and dispute.is_charge_refundable is True
    # An inquiry leaves the charge refundable.
    client.v1.refunds.create(params={"charge": charge.id, "amount": 400})
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 400
    with pytest.raises(Exception, match="400"):
        http.admin(f"disputes/{dispute.id}/close", {"status": "lost"})
    http.admin(f"disputes/{dispute.id}/close", {"status": "warning_closed"})
    assert server.flush()
    assert "charge.dispute.funds_withdrawn" not in receiver.types()
    assert client.v1.disputes.retrieve(dispute.id).status == "warning_closed"
