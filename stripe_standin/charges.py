"""Payment intents and charges: one attempt to take money with a payment method, and its events."""

from __future__ import annotations

import copy

from stripe_standin import cards, disputes
from stripe_standin.ids import new_id
from stripe_standin.store import JSON, Store


def create_payment_intent(
    store: Store, amount: int, currency: str, customer: str | None, metadata: JSON, description: str
) -> JSON:
    """A PaymentIntent waiting for a payment method (Checkout, invoices)."""
    pi = store.base("payment_intent", "pi", metadata=dict(metadata))
    pi.update(
        {
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{new_id('pi')}_secret_{new_id('x')[2:]}",
            "confirmation_method": "automatic",
            "currency": currency,
            "customer": customer,
            "description": description,
            "last_payment_error": None,
            "latest_charge": None,
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
    )
    return store.add(pi)


def _create_charge(store: Store, pi: JSON, pm: JSON, email: str | None, succeeded: bool) -> JSON:
    ch = store.base("charge", "ch", metadata=dict(pi["metadata"]))
    amount = pi["amount"]
    ch.update(
        {
            "amount": amount,
            "amount_captured": amount if succeeded else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": new_id("txn") if succeeded else None,
            "billing_details": cards.billing_details(email),
            "calculated_statement_descriptor": "STANDIN NEWSROOM",
            "captured": succeeded,
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None if succeeded else "card_declined",
            "failure_message": None if succeeded else "Your card was declined.",
            "fraud_details": {},
            "outcome": {
                "network_status": "approved_by_network" if succeeded else "declined_by_network",
                "reason": None if succeeded else "generic_decline",
                "risk_level": "normal",
                "seller_message": "Payment complete." if succeeded else "The bank declined.",
                "type": "authorized" if succeeded else "issuer_declined",
            },
            "paid": succeeded,
            "payment_intent": pi["id"],
            "payment_method": pm["id"],
            "payment_method_details": {
                "card": {
                    "brand": "visa",
                    "country": "US",
                    "exp_month": pm["card"]["exp_month"],
                    "exp_year": pm["card"]["exp_year"],
                    "funding": "credit",
                    "last4": pm["card"]["last4"],
                    "network": "visa",
                },
                "type": "card",
            },
            "receipt_email": email,
            "receipt_number": None,
            "receipt_url": None,
            "refunded": False,
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": "",
            },
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "succeeded" if succeeded else "failed",
            "transfer_data": None,
            "transfer_group": None,
        }
    )
    ch["refunds"]["url"] = f"/v1/charges/{ch['id']}/refunds"
    return store.add(ch)


def attempt_payment(
    store: Store, pi: JSON, pm: JSON, email: str | None, *, force_decline: bool = False
) -> bool:
    """Charge ``pm`` for ``pi``; emit the PaymentIntent/Charge events; True on success."""
    succeeded = cards.pm_succeeds(store, pm["id"]) and not force_decline
    ch = _create_charge(store, pi, pm, email, succeeded)
    pi["latest_charge"] = ch["id"]
    pi["payment_method"] = pm["id"]
    pi["receipt_email"] = email
    if succeeded:
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        pi["last_payment_error"] = None
        store.emit("payment_intent.succeeded", pi)
        store.emit("charge.succeeded", ch)
        # Stripe's dispute test cards: the bank disputes the charge right after.
        last4 = pm["card"]["last4"]
        if last4 in (cards.DISPUTE_FRAUDULENT, cards.DISPUTE_INQUIRY):
            disputes.create(store, ch, {"inquiry": last4 == cards.DISPUTE_INQUIRY})
    else:
        pi["status"] = "requires_payment_method"
        pi["last_payment_error"] = {
            "charge": ch["id"],
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
            "payment_method": copy.deepcopy(pm),
            "type": "card_error",
        }
        pi["payment_method"] = None
        store.emit("payment_intent.payment_failed", pi)
        store.emit("charge.failed", ch)
    return succeeded
