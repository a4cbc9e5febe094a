"""Subscription invoices: create, finalize, pay (through a payment intent), fail, void."""

from __future__ import annotations

import copy

from stripe_standin import cards, charges, prices, subscriptions
from stripe_standin.clock import now
from stripe_standin.errors import StripeError
from stripe_standin.ids import new_id
from stripe_standin.money import format_amount
from stripe_standin.store import JSON, Store

# How long after a failed payment Stripe's next automatic attempt is due.
RETRY_AFTER = 3 * 24 * 3600


def open_for_subscription(store: Store, sub_id: str) -> list[JSON]:
    """The subscription's invoices still waiting for payment."""
    return [
        inv
        for inv in store.all("invoice")
        if inv["status"] == "open" and subscription_id(inv) == sub_id
    ]


def subscription_id(invoice: JSON) -> str | None:
    """The subscription an invoice bills (``parent.subscription_details``), if any."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub_id = details.get("subscription")
    return sub_id if isinstance(sub_id, str) else None


def create(
    store: Store, sub: JSON, billing_reason: str, period: tuple[int, int] | None = None
) -> JSON:
    """A draft invoice for the subscription's item at its current price (``invoice.created``)."""
    item = subscriptions.first_item(sub)
    price = item["price"]
    amount = price["unit_amount"] * item["quantity"]
    cust = store.get("customer", sub["customer"])
    invoice = store.base("invoice", "in", metadata={})
    created = invoice["created"]
    interval = price["recurring"]["interval"]
    name = prices.product_name(store, price)
    line = {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": (
            f"{item['quantity']} × {name} "
            f"(at {format_amount(price['unit_amount'], price['currency'])} / {interval})"
        ),
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice["id"],
        "livemode": False,
        "metadata": dict(sub["metadata"]),
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"end": item["current_period_end"], "start": item["current_period_start"]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": str(price["unit_amount"]),
        },
        "quantity": item["quantity"],
        "subtotal": amount,
        "taxes": [],
    }
    start, end = period or (created, created)
    invoice.update(
        {
            "account_country": "US",
            "account_name": "Stand-in Newsroom",
            "amount_due": amount,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": amount,
            "amount_shipping": 0,
            "application": None,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": True,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "automatically_finalizes_at": None,
            "billing_reason": billing_reason,
            "collection_method": "charge_automatically",
            "currency": price["currency"],
            "custom_fields": None,
            "customer": cust["id"],
            "customer_address": cust["address"],
            "customer_email": cust["email"],
            "customer_name": cust["name"],
            "customer_phone": cust["phone"],
            "customer_shipping": None,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None,
            "effective_at": None,
            "ending_balance": None,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": {
                "object": "list",
                "data": [line],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/invoices/{invoice['id']}/lines",
            },
            "next_payment_attempt": None,
            "number": None,
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(sub["metadata"]),
                    "subscription": sub["id"],
                },
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "payments": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/invoice_payments?invoice={invoice['id']}",
            },
            "period_end": end,
            "period_start": start,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": "draft",
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": amount,
            "subtotal_excluding_tax": amount,
            "test_clock": None,
            "total": amount,
            "total_discount_amounts": [],
            "total_excluding_tax": amount,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": None,
        }
    )
    store.add(invoice)
    sub["latest_invoice"] = invoice["id"]
    store.emit("invoice.created", invoice)
    return invoice


def finalize(store: Store, invoice: JSON) -> None:
    """Draft -> open: numbered, with a hosted page to pay it."""
    cust = store.objects[invoice["customer"]]
    invoice["status"] = "open"
    invoice["number"] = f"{cust['invoice_prefix']}-{cust['next_invoice_sequence']:04d}"
    cust["next_invoice_sequence"] += 1
    invoice["effective_at"] = now()
    invoice["status_transitions"]["finalized_at"] = now()
    invoice["hosted_invoice_url"] = f"{store.public_url}/invoice/{invoice['id']}"
    store.emit("invoice.finalized", invoice)


def void(store: Store, invoice: JSON) -> None:
    """Open -> void: nothing is owed any more."""
    invoice["status"] = "void"
    invoice["amount_remaining"] = 0
    invoice["status_transitions"]["voided_at"] = now()
    invoice["next_payment_attempt"] = None
    store.emit("invoice.voided", invoice)


def mark_uncollectible(store: Store, invoice: JSON) -> None:
    """Open -> uncollectible: still owed, but no more attempts."""
    invoice["status"] = "uncollectible"
    invoice["status_transitions"]["marked_uncollectible_at"] = now()
    invoice["amount_remaining"] = invoice["amount_due"]
    store.emit("invoice.marked_uncollectible", invoice)


def _payment_intent(store: Store, invoice: JSON) -> JSON:
    """The invoice's payment intent, made (with its invoice payment) at the first attempt."""
    private = store.private[invoice["id"]]
    if "payment_intent" in private:
        pi: JSON = store.objects[private["payment_intent"]]
        return pi
    description = (
        "Subscription creation"
        if invoice["billing_reason"] == "subscription_create"
        else "Subscription update"
    )
    pi = charges.create_payment_intent(
        store, invoice["amount_due"], invoice["currency"], invoice["customer"], {}, description
    )
    private["payment_intent"] = pi["id"]
    invoice["payments"]["data"].insert(
        0,
        {
            "id": new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": None,
            "amount_requested": invoice["amount_due"],
            "created": now(),
            "currency": invoice["currency"],
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
            "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None},
        },
    )
    invoice["payments"]["total_count"] = len(invoice["payments"]["data"])
    return pi


def pay(
    store: Store, invoice: JSON, pm_id: str | None, *, update_subscription: bool = True
) -> bool:
    """Charge an open invoice; emits payment events. Returns False (and fails) on decline."""
    if invoice["status"] != "open":
        raise StripeError(f"Invoice is {invoice['status']}, not open.", param="invoice")
    if pm_id is None or pm_id not in store.objects:
        raise StripeError(
            "The customer has no default payment method.",
            param="payment_method",
            code="invoice_no_payment_method_types",
        )
    if not cards.pm_succeeds(store, pm_id):
        fail(store, invoice, pm_id)
        return False
    pi = _payment_intent(store, invoice)
    pi["customer"] = invoice["customer"]
    charges.attempt_payment(store, pi, store.objects[pm_id], invoice["customer_email"])
    invoice["status"] = "paid"
    invoice["amount_paid"] = invoice["amount_due"]
    invoice["amount_remaining"] = 0
    invoice["attempted"] = True
    invoice["attempt_count"] += 1
    invoice["next_payment_attempt"] = None
    invoice["status_transitions"]["paid_at"] = now()
    payment = invoice["payments"]["data"][0]
    payment.update(
        {
            "amount_paid": invoice["amount_due"],
            "status": "paid",
            "status_transitions": {"canceled_at": None, "paid_at": now()},
        }
    )
    store.emit("invoice.paid", invoice)
    store.emit("invoice.payment_succeeded", invoice)
    sub_id = subscription_id(invoice)
    if update_subscription and sub_id and sub_id in store.objects:
        sub = store.objects[sub_id]
        if sub["status"] == "past_due" and not open_for_subscription(store, sub_id):
            before = copy.deepcopy(sub)
            sub["status"] = "active"
            store.emit_changes("customer.subscription.updated", sub, before)
    return True


def fail(store: Store, invoice: JSON, pm_id: str | None) -> None:
    """A declined attempt: the invoice stays open and its subscription becomes past_due."""
    pi = _payment_intent(store, invoice)
    pi["customer"] = invoice["customer"]
    if pm_id and pm_id in store.objects:
        charges.attempt_payment(
            store, pi, store.objects[pm_id], invoice["customer_email"], force_decline=True
        )
    invoice["attempted"] = True
    invoice["attempt_count"] += 1
    invoice["next_payment_attempt"] = now() + RETRY_AFTER
    store.emit("invoice.payment_failed", invoice)
    sub_id = subscription_id(invoice)
    if sub_id and sub_id in store.objects:
        store.objects[sub_id]["status"] = "past_due"
