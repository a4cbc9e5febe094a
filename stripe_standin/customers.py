"""Customers: create and update with Stripe's address, metadata and default-card rules."""

from __future__ import annotations

import copy

from stripe_standin.errors import StripeError
from stripe_standin.ids import new_id
from stripe_standin.params import as_dict, as_str, merge_metadata
from stripe_standin.store import JSON, Store


def empty_address() -> JSON:
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return dict.fromkeys(keys)


def create(store: Store, params: JSON) -> JSON:
    cust = store.base("customer", "cus", metadata={})
    cust.update(
        {
            "address": None,
            "balance": 0,
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "email": None,
            "invoice_prefix": new_id("x", 8)[2:].upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "name": None,
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
    )
    _apply_params(store, cust, params)
    store.add(cust)
    store.emit("customer.created", cust)
    return cust


def _apply_params(store: Store, cust: JSON, params: JSON) -> None:
    for field in ("email", "name", "phone", "description"):
        if field in params:
            value = as_str(params[field], field)
            cust[field] = value or None
    if "address" in params:
        address = params["address"]
        if address == "":
            cust["address"] = None
        else:
            merged = cust["address"] or empty_address()
            for key, value in as_dict(address, "address").items():
                if key not in merged:
                    raise StripeError(
                        f"Received unknown parameter: address[{key}]", param=f"address[{key}]"
                    )
                merged[key] = value or None
            cust["address"] = merged
    if "metadata" in params:
        cust["metadata"] = merge_metadata(cust["metadata"], params["metadata"])
    if "invoice_settings" in params:
        settings = as_dict(params["invoice_settings"], "invoice_settings")
        if "default_payment_method" in settings:
            pm_id = as_str(settings["default_payment_method"], "default_payment_method")
            if pm_id:
                pm = store.get("payment_method", pm_id, "invoice_settings[default_payment_method]")
                pm["customer"] = cust["id"]
            cust["invoice_settings"]["default_payment_method"] = pm_id or None


def update(store: Store, cust: JSON, params: JSON) -> JSON:
    before = copy.deepcopy(cust)
    _apply_params(store, cust, params)
    store.emit_changes("customer.updated", cust, before)
    return cust
