"""Refunds and disputes."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


@pytest.fixture
def paid_charge(payment_session: Any, http: Any, client: stripe.StripeClient) -> Any:
    def make(amount: int = 1000) -> stripe.Charge:
        session = payment_session(amount)
        http.admin(f"checkout/{session.id}/pay", {"card": "success"})
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
    assert partial.status == "succeeded" and partial.charge == charge.id
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
    assert [e["data"]["object"]["amount_refunded"] for e in refunded] == [300, 1000]
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
