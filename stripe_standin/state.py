"""The simulated business logic on top of the core store (being split by resource)."""

from __future__ import annotations

import copy
from typing import Any

from stripe_standin import cards, charges, customers, prices, subscriptions
from stripe_standin import store as core
from stripe_standin.clock import INTERVAL_MONTHS, add_months, now
from stripe_standin.errors import CardDeclined, StripeError
from stripe_standin.ids import new_id
from stripe_standin.money import format_amount
from stripe_standin.params import as_dict, as_int, as_str, merge_metadata
from stripe_standin.store import JSON, diff_top_level

SESSION_LIFETIME = 24 * 3600
RETRY_AFTER = 3 * 24 * 3600


class Store(core.Store):
    """The core store plus the simulated resources."""

    # -- checkout sessions -----------------------------------------------------------------------
    def create_checkout_session(self, params: JSON) -> JSON:
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
            self.get("customer", as_str(customer_id, "customer"), "customer")
        if customer_email is not None:
            as_str(customer_email, "customer_email")
        submit_type = params.get("submit_type") or None
        if submit_type is not None:
            if submit_type not in ("auto", "book", "donate", "pay", "subscribe"):
                raise StripeError("Invalid submit_type", param="submit_type")
            if mode != "payment" and submit_type != "subscribe":
                raise StripeError(
                    "submit_type can only be used in payment mode.", param="submit_type"
                )
        metadata = merge_metadata({}, params.get("metadata", {}))
        line_items: list[JSON] = []
        raw_items = params.get("line_items")
        if mode in ("payment", "subscription"):
            if not isinstance(raw_items, list) or not raw_items:
                raise StripeError("Missing required param: line_items.", param="line_items")
            for i, raw in enumerate(raw_items):
                param = f"line_items[{i}]"
                item = as_dict(raw, param)
                quantity = as_int(item.get("quantity", 1), f"{param}[quantity]", positive=True)
                if item.get("price"):
                    price = self.get("price", as_str(item["price"], "price"), f"{param}[price]")
                    if (price["recurring"] is not None) != (mode == "subscription"):
                        raise StripeError(f"Price does not match mode {mode}", param=param)
                elif item.get("price_data"):
                    price = prices.create(
                        self,
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
            currencies = {self.objects[li["price"]]["currency"] for li in line_items}
            if len(currencies) > 1:
                raise StripeError("All line items must share one currency.", param="line_items")
        elif raw_items:
            raise StripeError("line_items cannot be used in setup mode.", param="line_items")
        currency: str | None = None
        amount_total: int | None = None
        if line_items:
            first_price = self.objects[line_items[0]["price"]]
            currency = first_price["currency"]
            amount_total = sum(
                self.objects[li["price"]]["unit_amount"] * li["quantity"] for li in line_items
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
        session = self.base("checkout.session", "cs_test", metadata=metadata)
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
                "customer_creation": "if_required" if mode == "payment" else "always",
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
        session["url"] = f"{self.public_url}/checkout/{session['id']}"
        self.private[session["id"]].update(
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
        return self.add(session)

    def session_line_items(self, session: JSON) -> JSON:
        data: list[JSON] = []
        for li in self.private[session["id"]].get("line_items", []):
            price = self.objects[li["price"]]
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
                    "description": prices.product_name(self, price),
                    "price": copy.deepcopy(price),
                    "quantity": li["quantity"],
                }
            )
        url = f"/v1/checkout/sessions/{session['id']}/line_items"
        return {"object": "list", "data": data, "has_more": False, "url": url}

    def session_summary(self, session: JSON) -> JSON:
        """What the hosted page shows: product names, amount, frequency."""
        items = self.private[session["id"]].get("line_items", [])
        names = [prices.product_name(self, self.objects[li["price"]]) for li in items]
        interval = None
        if items:
            recurring = self.objects[items[0]["price"]]["recurring"]
            interval = recurring["interval"] if recurring else None
        amount = None
        if session["amount_total"] is not None and session["currency"]:
            amount = format_amount(session["amount_total"], session["currency"])
        return {"names": names, "amount": amount, "interval": interval}

    def expire_session(self, session: JSON) -> JSON:
        if session["status"] != "open":
            raise StripeError(
                f"Only Checkout Sessions with a status of `open` can be expired. This Checkout "
                f"Session has a status of `{session['status']}`.",
                param="session",
            )
        session["status"] = "expired"
        self.emit("checkout.session.expired", session)
        return session

    def _customer_for(self, customer_id: str | None, email: str | None) -> JSON:
        if customer_id:
            return self.get("customer", customer_id, "customer")
        if not email:
            raise StripeError("Enter your email address.", param="email")
        found = customers.find_by_email(self, email)
        if found is not None:
            return found
        return customers.create(self, {"email": email})

    def pay_session(self, session: JSON, card: str, email: str | None) -> JSON:
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
            email = self.get("customer", session["customer"])["email"]
        if not email and not session["customer"]:
            raise StripeError("Enter your email address.", param="email")
        if email and "@" not in email:
            raise StripeError("Enter a valid email address.", param="email")
        mode = session["mode"]
        if mode == "payment":
            return self._pay_payment_session(session, card, email, succeeds)
        if not succeeds:
            raise CardDeclined("Your card was declined. Try another card.")
        if mode == "subscription":
            return self._pay_subscription_session(session, card, email)
        return self._complete_setup_session(session, card, email)

    def _complete_session(self, session: JSON, customer: JSON, email: str | None) -> None:
        session["status"] = "complete"
        if session["mode"] != "setup":
            session["payment_status"] = "paid"
        session["customer"] = customer["id"]
        session["customer_details"] = {
            "address": None,
            "email": email or customer["email"],
            "name": customer["name"],
            "phone": customer["phone"],
            "tax_exempt": "none",
            "tax_ids": [],
        }
        self.emit("checkout.session.completed", session)

    def _pay_payment_session(
        self, session: JSON, card: str, email: str | None, succeeds: bool
    ) -> JSON:
        private = self.private[session["id"]]
        pi_id = session["payment_intent"]
        if pi_id:
            pi = self.objects[pi_id]
        else:
            description = private.get("payment_intent_description") or ", ".join(
                self.session_summary(session)["names"]
            )
            pi = charges.create_payment_intent(
                self,
                session["amount_total"],
                session["currency"],
                None,
                private.get("payment_intent_metadata", {}),
                description,
            )
            session["payment_intent"] = pi["id"]
        if not succeeds:
            pm = cards.create_payment_method(self, card, None, email)
            charges.attempt_payment(self, pi, pm, email)
            raise CardDeclined("Your card was declined. Try another card.")
        customer = self._customer_for(session["customer"], email)
        pi["customer"] = customer["id"]
        pm = cards.create_payment_method(self, card, None, email)
        charges.attempt_payment(self, pi, pm, email)
        self._complete_session(session, customer, email)
        return session

    def _pay_subscription_session(self, session: JSON, card: str, email: str | None) -> JSON:
        private = self.private[session["id"]]
        customer = self._customer_for(session["customer"], email)
        pm = cards.create_payment_method(self, card, customer["id"], email)
        self.emit("payment_method.attached", pm)
        item = private["line_items"][0]
        sub = subscriptions.create(
            self, customer, self.objects[item["price"]], item["quantity"], pm["id"]
        )
        sub["metadata"] = dict(private.get("subscription_metadata", {}))
        self.emit("customer.subscription.created", sub)
        invoice = self.create_invoice(sub, "subscription_create")
        self.finalize_invoice(invoice)
        self.pay_invoice(invoice, pm["id"])
        session["subscription"] = sub["id"]
        session["invoice"] = invoice["id"]
        self._complete_session(session, customer, email)
        return session

    def _complete_setup_session(self, session: JSON, card: str, email: str | None) -> JSON:
        private = self.private[session["id"]]
        customer = self._customer_for(session["customer"], email)
        metadata = private.get("setup_metadata", {})
        pm, seti = cards.save_card(self, customer, card, email, metadata)
        session["setup_intent"] = seti["id"]
        self._complete_session(session, customer, email)
        self.recover_subscriptions(customer, pm, metadata.get("subscription_id"))
        return session

    # -- saving cards (setup mode, portal) --------------------------------------------------------

    def recover_subscriptions(self, customer: JSON, pm: JSON, subscription_id: Any) -> None:
        """Make ``pm`` the default of past_due subscriptions and retry their open invoices."""
        if isinstance(subscription_id, str) and subscription_id in self.objects:
            candidates = [self.get("subscription", subscription_id)]
        else:
            candidates = [s for s in self.all("subscription") if s["customer"] == customer["id"]]
        for sub in candidates:
            if sub["status"] not in ("past_due", "unpaid", "incomplete"):
                continue
            before = copy.deepcopy(sub)
            sub["default_payment_method"] = pm["id"]
            for invoice in self.all("invoice"):
                if invoice["status"] == "open" and self.invoice_subscription(invoice) == sub["id"]:
                    self.pay_invoice(invoice, pm["id"], update_subscription=False)
            if not self.open_invoices(sub["id"]):
                sub["status"] = "active"
            previous = diff_top_level(before, sub)
            if previous:
                self.emit("customer.subscription.updated", sub, previous)

    # -- subscriptions ---------------------------------------------------------------------------

    def open_invoices(self, sub_id: str) -> list[JSON]:
        return [
            inv
            for inv in self.all("invoice")
            if inv["status"] == "open" and self.invoice_subscription(inv) == sub_id
        ]

    @staticmethod
    def invoice_subscription(invoice: JSON) -> str | None:
        parent = invoice.get("parent") or {}
        details = parent.get("subscription_details") or {}
        sub_id = details.get("subscription")
        return sub_id if isinstance(sub_id, str) else None

    def _advance_period(self, sub: JSON) -> tuple[int, int, int]:
        """Move the item's period forward; returns (old_start, new_start, new_end)."""
        item = subscriptions.first_item(sub)
        months = INTERVAL_MONTHS[item["price"]["recurring"]["interval"]]
        private = self.private[sub["id"]]
        private["months_elapsed"] = private.get("months_elapsed", months) + months
        old_start = item["current_period_start"]
        new_start = item["current_period_end"]
        new_end = add_months(sub["billing_cycle_anchor"], private["months_elapsed"])
        item["current_period_start"] = new_start
        item["current_period_end"] = new_end
        return old_start, new_start, new_end

    def renew(self, sub: JSON, *, fail: bool = False) -> JSON:
        """Simulate the end of the current period (admin endpoint)."""
        if sub["status"] == "canceled":
            raise StripeError("This subscription is canceled.", param="subscription")
        if sub["cancel_at_period_end"]:
            return subscriptions.cancel(
                self, sub, at=subscriptions.first_item(sub)["current_period_end"]
            )
        before = copy.deepcopy(sub)
        pause = sub["pause_collection"]
        if (
            pause
            and pause["resumes_at"]
            and pause["resumes_at"] <= subscriptions.first_item(sub)["current_period_end"]
        ):
            sub["pause_collection"] = pause = None
        old_start, new_start, new_end = self._advance_period(sub)
        invoice = self.create_invoice(sub, "subscription_cycle", period=(old_start, new_start))
        if pause and not fail:
            behavior = pause["behavior"]
            if behavior == "void":
                self.finalize_invoice(invoice)
                self._void_invoice(invoice)
            elif behavior == "mark_uncollectible":
                self.finalize_invoice(invoice)
                invoice["status"] = "uncollectible"
                invoice["status_transitions"]["marked_uncollectible_at"] = now()
                invoice["amount_remaining"] = invoice["amount_due"]
                self.emit("invoice.marked_uncollectible", invoice)
            # keep_as_draft: the invoice stays a draft
        else:
            self.finalize_invoice(invoice)
            pm_id = subscriptions.default_payment_method(self, sub)
            if fail:
                self.fail_invoice(invoice, pm_id)
            else:
                self.pay_invoice(invoice, pm_id, update_subscription=False)
                if sub["status"] == "past_due" and not self.open_invoices(sub["id"]):
                    sub["status"] = "active"
        previous = diff_top_level(before, sub)
        if previous:
            self.emit("customer.subscription.updated", sub, previous)
        return invoice

    # -- invoices --------------------------------------------------------------------------------
    def create_invoice(
        self, sub: JSON, billing_reason: str, period: tuple[int, int] | None = None
    ) -> JSON:
        item = subscriptions.first_item(sub)
        price = item["price"]
        amount = price["unit_amount"] * item["quantity"]
        cust = self.get("customer", sub["customer"])
        invoice = self.base("invoice", "in", metadata={})
        created = invoice["created"]
        interval = price["recurring"]["interval"]
        name = prices.product_name(self, price)
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
        self.add(invoice)
        sub["latest_invoice"] = invoice["id"]
        self.emit("invoice.created", invoice)
        return invoice

    def finalize_invoice(self, invoice: JSON) -> None:
        cust = self.objects[invoice["customer"]]
        invoice["status"] = "open"
        invoice["number"] = f"{cust['invoice_prefix']}-{cust['next_invoice_sequence']:04d}"
        cust["next_invoice_sequence"] += 1
        invoice["effective_at"] = now()
        invoice["status_transitions"]["finalized_at"] = now()
        invoice["hosted_invoice_url"] = f"{self.public_url}/invoice/{invoice['id']}"
        self.emit("invoice.finalized", invoice)

    def _void_invoice(self, invoice: JSON) -> None:
        invoice["status"] = "void"
        invoice["amount_remaining"] = 0
        invoice["status_transitions"]["voided_at"] = now()
        invoice["next_payment_attempt"] = None
        self.emit("invoice.voided", invoice)

    def _invoice_pi(self, invoice: JSON) -> JSON:
        private = self.private[invoice["id"]]
        if "payment_intent" in private:
            pi: JSON = self.objects[private["payment_intent"]]
            return pi
        description = (
            "Subscription creation"
            if invoice["billing_reason"] == "subscription_create"
            else "Subscription update"
        )
        pi = charges.create_payment_intent(
            self, invoice["amount_due"], invoice["currency"], invoice["customer"], {}, description
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

    def pay_invoice(
        self, invoice: JSON, pm_id: str | None, *, update_subscription: bool = True
    ) -> bool:
        """Charge an open invoice; emits payment events. Returns False (and fails) on decline."""
        if invoice["status"] != "open":
            raise StripeError(f"Invoice is {invoice['status']}, not open.", param="invoice")
        if pm_id is None or pm_id not in self.objects:
            raise StripeError(
                "The customer has no default payment method.",
                param="payment_method",
                code="invoice_no_payment_method_types",
            )
        if not cards.pm_succeeds(self, pm_id):
            self.fail_invoice(invoice, pm_id)
            return False
        pi = self._invoice_pi(invoice)
        pi["customer"] = invoice["customer"]
        charges.attempt_payment(self, pi, self.objects[pm_id], invoice["customer_email"])
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
        self.emit("invoice.paid", invoice)
        self.emit("invoice.payment_succeeded", invoice)
        sub_id = self.invoice_subscription(invoice)
        if update_subscription and sub_id and sub_id in self.objects:
            sub = self.objects[sub_id]
            if sub["status"] == "past_due" and not self.open_invoices(sub_id):
                before = copy.deepcopy(sub)
                sub["status"] = "active"
                self.emit("customer.subscription.updated", sub, diff_top_level(before, sub))
        return True

    def fail_invoice(self, invoice: JSON, pm_id: str | None) -> None:
        pi = self._invoice_pi(invoice)
        pi["customer"] = invoice["customer"]
        if pm_id and pm_id in self.objects:
            charges.attempt_payment(
                self, pi, self.objects[pm_id], invoice["customer_email"], force_decline=True
            )
        invoice["attempted"] = True
        invoice["attempt_count"] += 1
        invoice["next_payment_attempt"] = now() + RETRY_AFTER
        self.emit("invoice.payment_failed", invoice)
        sub_id = self.invoice_subscription(invoice)
        if sub_id and sub_id in self.objects:
            self.objects[sub_id]["status"] = "past_due"

    # -- billing portal --------------------------------------------------------------------------
    def create_portal_session(self, params: JSON) -> JSON:
        customer_id = params.get("customer")
        if not customer_id:
            raise StripeError("Missing required param: customer.", param="customer")
        self.get("customer", as_str(customer_id, "customer"), "customer")
        return_url = params.get("return_url") or None
        portal = self.base("billing_portal.session", "bps")
        portal.update(
            {
                "configuration": "bpc_standin",
                "customer": customer_id,
                "customer_account": None,
                "flow": None,
                "locale": None,
                "on_behalf_of": None,
                "return_url": return_url,
                "url": None,
            }
        )
        portal["url"] = f"{self.public_url}/portal/{portal['id']}"
        return self.add(portal)
