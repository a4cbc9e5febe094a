"""Stripe customers of a person who asked to be erased: found by address, their personal fields
blanked (Stripe keeps the customer object, since it keeps the payments it made)."""

from __future__ import annotations

from membership.payments.gateway import StripeGateway
from membership.payments.objects import Customer


def customer_ids_for_email(gateway: StripeGateway, email: str) -> list[str]:
    """Checkout makes a new customer for each one-off gift: all of them, by address."""
    return [
        customer.id
        for customer in gateway.paged(
            "customers", Customer.parse, gateway.api().v1.customers.list, {"email": email}
        )
    ]


def blank_customer(gateway: StripeGateway, customer_id: str) -> Customer:
    """Erase the personal fields of the customer."""
    return gateway.call(
        "customer erase",
        Customer.parse,
        gateway.api().v1.customers.update,
        customer_id,
        params={"email": "", "name": "", "phone": "", "description": "", "address": ""},
    )
