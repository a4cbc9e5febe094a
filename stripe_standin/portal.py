"""Billing portal sessions: the link to the simulated customer portal page."""

from __future__ import annotations

from stripe_standin.errors import StripeError
from stripe_standin.params import as_str
from stripe_standin.store import JSON, Store


def create(store: Store, params: JSON) -> JSON:
    """``POST /v1/billing_portal/sessions``: a session whose ``url`` opens the portal page."""
    customer_id = params.get("customer")
    if not customer_id:
        raise StripeError("Missing required param: customer.", param="customer")
    store.get("customer", as_str(customer_id, "customer"), "customer")
    return_url = params.get("return_url") or None
    portal = store.base("billing_portal.session", "bps")
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
    portal["url"] = f"{store.public_url}/portal/{portal['id']}"
    return store.add(portal)
