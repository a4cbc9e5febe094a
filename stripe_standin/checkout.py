"""Checkout Sessions: create (payment, subscription, setup mode), expire, line items, and paying.

Paying is what the customer does on the hosted page (or the admin pay endpoint): a payment
session charges once, a subscription session starts a subscription with its first invoice, a
setup session saves a card and retries the customer's past_due subscriptions.
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_standin import cards, charges, customers, invoices, prices, renewals, subscriptions
from stripe_standin.clock import now
from stripe_standin.errors import TRY_ANOTHER_CARD, CardDeclined, StripeError
from stripe_standin.money import format_amount
from stripe_standin.params import as_dict, as_int, as_str, merge_metadata
from stripe_standin.store import JSON, Store

# How long an unpaid session stays open unless ``expires_at`` says otherwise.
SESSION_LIFETIME = 24 * 3600


def create(store: Store, params: JSON) -> JSON:
    """``POST /v1/checkout/sessions``: Stripe's checks, then an open session with a hosted page.

    What paying will need (line items, metadata for the objects it creates) is kept privately.
    """
    mode = params.get("mode")
    if mode not in ("payment", "subscription", "setup"):
        raise StripeError(
            "Invalid mode: must be one of payment, setup, or subscription", param="mode"
        )
    for url_param in ("success_url", "cancel_url"):
        value = params.get(url_param)
        if not value or not isinstance(value, str):
            raise StripeError(f"Missing required param: {url_param}.", param=url_param)
        if not value.startswith(("http://", "https://")):
            raise StripeError(f"Not a valid URL: {url_param}", param=url_param)
    customer_id = params.get("customer") or None
    customer_email = params.get("customer_email") or None
    if customer_id and customer_email:
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if customer_id:
        store.get("customer", as_str(customer_id, "customer"), "customer")
    if customer_email is not None:
        as_str(customer_email, "customer_email")
    customer_creation = params.get("customer_creation") or None
    if customer_creation is not None:
        if customer_creation not in ("always", "if_required"):
            raise StripeError("Invalid customer_creation", param="customer_creation")
        if mode == "subscription":
            raise StripeError(
                "customer_creation can only be used in payment and setup mode.",
                param="customer_creation",
            )
    submit_type = params.get("submit_type") or None
    if submit_type is not None:
        if submit_type not in ("auto", "book", "donate", "pay", "subscribe"):
            raise StripeError("Invalid submit_type", param="submit_type")
        if mode != "payment" and submit_type != "subscribe":
            raise StripeError("submit_type can only be used in payment mode.", param="submit_type")
    metadata = merge_metadata({}, params.get("metadata", {}))
    line_items = _parse_line_items(store, mode, params.get("line_items"))
    currency: str | None = None
    amount_total: int | None = None
    if line_items:
        first_price = store.objects[line_items[0]["price"]]
        currency = first_price["currency"]
        amount_total = sum(
            store.objects[li["price"]]["unit_amount"] * li["quantity"] for li in line_items
        )
    elif params.get("currency"):
        currency = as_str(params["currency"], "currency").lower()
    pi_data = as_dict(params.get("payment_intent_data"), "payment_intent_data")
    sub_data = as_dict(params.get("subscription_data"), "subscription_data")
    setup_data = as_dict(params.get("setup_intent_data"), "setup_intent_data")
    if pi_data and mode != "payment":
        raise StripeError(
            "payment_intent_data can only be used in payment mode.",
            param="payment_intent_data",
        )
    if sub_data and mode != "subscription":
        raise StripeError(
            "subscription_data can only be used in subscription mode.",
            param="subscription_data",
        )
    if setup_data and mode != "setup":
        raise StripeError(
            "setup_intent_data can only be used in setup mode.", param="setup_intent_data"
        )
    created = now()
    expires_at = created + SESSION_LIFETIME
    if params.get("expires_at"):
        expires_at = as_int(params["expires_at"], "expires_at", positive=True)
    session = store.base("checkout.session", "cs_test", metadata=metadata)
    session.update(
        {
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": amount_total,
            "amount_total": amount_total,
            "billing_address_collection": None,
            "cancel_url": params["cancel_url"],
            "client_reference_id": params.get("client_reference_id") or None,
            "client_secret": None,
            "consent": None,
            "currency": currency,
            "customer": customer_id,
            "customer_creation": customer_creation
            or ("if_required" if mode == "payment" else "always"),
            "customer_details": None,
            "customer_email": customer_email,
            "expires_at": expires_at,
            "invoice": None,
            "locale": None,
            "mode": mode,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_types": ["card"],
            "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
            "recovered_from": None,
            "setup_intent": None,
            "status": "open",
            "submit_type": submit_type,
            "subscription": None,
            "success_url": params["success_url"],
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            "url": None,
        }
    )
    session["url"] = f"{store.public_url}/checkout/{session['id']}"
    store.private[session["id"]].update(
        {
            "line_items": line_items,
            "payment_intent_metadata": merge_metadata(
                {}, pi_data.get("metadata", {}), "payment_intent_data[metadata]"
            ),
            "payment_intent_description": pi_data.get("description"),
            "subscription_metadata": merge_metadata(
                {}, sub_data.get("metadata", {}), "subscription_data[metadata]"
            ),
            "setup_metadata": merge_metadata(
                {}, setup_data.get("metadata", {}), "setup_intent_data[metadata]"
            ),
        }
    )
    return store.add(session)


def _parse_line_items(store: Store, mode: str, raw_items: Any) -> list[JSON]:
    """``line_items`` as ``[{price, quantity}]``, creating inline prices; none in setup mode."""
    line_items: list[JSON] = []
    if mode in ("payment", "subscription"):
        if not isinstance(raw_items, list) or not raw_items:
            raise StripeError("Missing required param: line_items.", param="line_items")
        for i, raw in enumerate(raw_items):
            param = f"line_items[{i}]"
            item = as_dict(raw, param)
            quantity = as_int(item.get("quantity", 1), f"{param}[quantity]", positive=True)
            if item.get("price"):
                price = store.get("price", as_str(item["price"], "price"), f"{param}[price]")
                if (price["recurring"] is not None) != (mode == "subscription"):
                    raise StripeError(f"Price does not match mode {mode}", param=param)
            elif item.get("price_data"):
                price = prices.create(
                    store,
                    as_dict(item["price_data"], f"{param}[price_data]"),
                    f"{param}[price_data]",
                    recurring_required=mode == "subscription",
                )
            else:
                raise StripeError(
                    "Missing required param: line_items[0][price_data].",
                    param=f"{param}[price_data]",
                )
            line_items.append({"price": price["id"], "quantity": quantity})
        currencies = {store.objects[li["price"]]["currency"] for li in line_items}
        if len(currencies) > 1:
            raise StripeError("All line items must share one currency.", param="line_items")
    elif raw_items:
        raise StripeError("line_items cannot be used in setup mode.", param="line_items")
    return line_items


def list_line_items(store: Store, session: JSON) -> JSON:
    """``GET /v1/checkout/sessions/<id>/line_items``: one page holding every item."""
    data: list[JSON] = []
    for li in store.private[session["id"]].get("line_items", []):
        price = store.objects[li["price"]]
        total = price["unit_amount"] * li["quantity"]
        data.append(
            {
                "id": f"li_{session['id'][8:32]}{len(data)}",
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": total,
                "amount_tax": 0,
                "amount_total": total,
                "currency": price["currency"],
                "description": prices.product_name(store, price),
                "price": copy.deepcopy(price),
                "quantity": li["quantity"],
            }
        )
    url = f"/v1/checkout/sessions/{session['id']}/line_items"
    return {"object": "list", "data": data, "has_more": False, "url": url}


def summary(store: Store, session: JSON) -> JSON:
    """What the hosted page shows: product names, amount, frequency."""
    items = store.private[session["id"]].get("line_items", [])
    names = [prices.product_name(store, store.objects[li["price"]]) for li in items]
    interval = None
    if items:
        recurring = store.objects[items[0]["price"]]["recurring"]
        interval = recurring["interval"] if recurring else None
    amount = None
    if session["amount_total"] is not None and session["currency"]:
        amount = format_amount(session["amount_total"], session["currency"])
    return {"names": names, "amount": amount, "interval": interval}


def expire(store: Store, session: JSON) -> JSON:
    """An open session can no longer be paid (``checkout.session.expired``)."""
    if session["status"] != "open":
        raise StripeError(
            f"Only Checkout Sessions with a status of `open` can be expired. This Checkout "
            f"Session has a status of `{session['status']}`.",
            param="session",
        )
    session["status"] = "expired"
    store.emit("checkout.session.expired", session)
    return session


def _customer_for(store: Store, session: JSON, email: str | None) -> JSON:
    """Who pays: the session's customer if it was given one, else a new customer, as Stripe
    does: Checkout never looks customers up by email, so every session without `customer`
    makes its own (a person who gives twice has two customers)."""
    if session["customer"]:
        return store.get("customer", session["customer"], "customer")
    if not email:
        raise StripeError("Enter your email address.", param="email")
    return customers.create(store, {"email": email})


def _payer_for(store: Store, session: JSON, email: str | None) -> JSON | None:
    """A payment session's customer: none when ``customer_creation`` is ``if_required`` (a
    guest payment), as in Stripe."""
    if not session["customer"] and session["customer_creation"] == "if_required":
        return None
    return _customer_for(store, session, email)


def pay(store: Store, session: JSON, card: str, email: str | None) -> JSON:
    """Simulate the customer submitting the hosted page. Raises CardDeclined."""
    if session["status"] != "open":
        raise StripeError(
            f"This Checkout Session is {session['status']} and can no longer be paid.",
            param="session",
            code="checkout_session_not_open",
        )
    _last4, succeeds = cards.lookup(card)
    email = (email or "").strip() or session["customer_email"]
    if session["customer"] and not email:
        email = store.get("customer", session["customer"])["email"]
    if not email and not session["customer"]:
        raise StripeError("Enter your email address.", param="email")
    if email and "@" not in email:
        raise StripeError("Enter a valid email address.", param="email")
    mode = session["mode"]
    if mode == "payment":
        return _pay_payment(store, session, card, email, succeeds)
    if not succeeds:
        raise CardDeclined(TRY_ANOTHER_CARD)
    if mode == "subscription":
        return _pay_subscription(store, session, card, email)
    return _complete_setup(store, session, card, email)


def _complete(store: Store, session: JSON, customer: JSON | None, email: str | None) -> None:
    """Mark the session complete for ``customer`` (``checkout.session.completed``)."""
    session["status"] = "complete"
    if session["mode"] != "setup":
        session["payment_status"] = "paid"
    session["customer"] = customer["id"] if customer else None
    session["customer_details"] = {
        "address": None,
        "email": email or (customer or {}).get("email"),
        "name": (customer or {}).get("name"),
        "phone": (customer or {}).get("phone"),
        "tax_exempt": "none",
        "tax_ids": [],
    }
    store.emit("checkout.session.completed", session)


def _pay_payment(store: Store, session: JSON, card: str, email: str | None, succeeds: bool) -> JSON:
    """One charge; a decline leaves the session open with a failed attempt on its intent."""
    private = store.private[session["id"]]
    pi_id = session["payment_intent"]
    if pi_id:
        pi = store.objects[pi_id]
    else:
        description = private.get("payment_intent_description") or ", ".join(
            summary(store, session)["names"]
        )
        pi = charges.create_payment_intent(
            store,
            session["amount_total"],
            session["currency"],
            None,
            private.get("payment_intent_metadata", {}),
            description,
        )
        session["payment_intent"] = pi["id"]
    if not succeeds:
        pm = cards.create_payment_method(store, card, None, email)
        charges.attempt_payment(store, pi, pm, email)
        raise CardDeclined(TRY_ANOTHER_CARD)
    customer = _payer_for(store, session, email)
    pi["customer"] = customer["id"] if customer else None
    pm = cards.create_payment_method(store, card, None, email)
    charges.attempt_payment(store, pi, pm, email)
    _complete(store, session, customer, email)
    return session


def _pay_subscription(store: Store, session: JSON, card: str, email: str | None) -> JSON:
    """A subscription with the card as its default, and its first invoice paid."""
    private = store.private[session["id"]]
    customer = _customer_for(store, session, email)
    pm = cards.create_payment_method(store, card, customer["id"], email)
    store.emit("payment_method.attached", pm)
    item = private["line_items"][0]
    sub = subscriptions.create(
        store, customer, store.objects[item["price"]], item["quantity"], pm["id"]
    )
    sub["metadata"] = dict(private.get("subscription_metadata", {}))
    store.emit("customer.subscription.created", sub)
    invoice = invoices.create(store, sub, "subscription_create")
    invoices.finalize(store, invoice)
    invoices.pay(store, invoice, pm["id"])
    session["subscription"] = sub["id"]
    session["invoice"] = invoice["id"]
    _complete(store, session, customer, email)
    return session


def _complete_setup(store: Store, session: JSON, card: str, email: str | None) -> JSON:
    """Save the card; past_due subscriptions (or the one in the metadata) retry with it."""
    private = store.private[session["id"]]
    customer = _customer_for(store, session, email)
    metadata = private.get("setup_metadata", {})
    pm, seti = cards.save_card(store, customer, card, email, metadata)
    session["setup_intent"] = seti["id"]
    _complete(store, session, customer, email)
    renewals.recover_past_due(store, customer, pm, metadata.get("subscription_id"))
    return session
