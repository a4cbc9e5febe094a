"""Billing portal sessions: the link to the simulated customer portal page."""

from __future__ import annotations

from stripe_standin.errors import StripeError
from stripe_standin.params import as_dict, as_str
from stripe_standin.store import JSON, Store


def create(store: Store, params: JSON) -> JSON:
    """``POST /v1/billing_portal/sessions``: a session whose ``url`` opens the portal page."""
    customer_id = params.get("customer")
    if not customer_id:
        raise StripeError("Missing required param: customer.", param="customer")
    store.get("customer", as_str(customer_id, "customer"), "customer")
    return_url = params.get("return_url") or None
    flow = _flow(params.get("flow_data"))
    portal = store.base("billing_portal.session", "bps")
    portal.update(
        {
            "configuration": "bpc_standin",
            "customer": customer_id,
            "customer_account": None,
            "flow": flow,
            "locale": None,
            "on_behalf_of": None,
            "return_url": return_url,
            "url": None,
        }
    )
    portal["url"] = f"{store.public_url}/portal/{portal['id']}"
    return store.add(portal)


FLOWS = (
    "payment_method_update",
    "subscription_cancel",
    "subscription_update",
    "subscription_update_confirm",
)


def _flow(flow_data: object) -> JSON | None:
    """``flow_data[type]`` opens the portal on one task, as Stripe's ``flow`` shows it."""
    if flow_data in (None, ""):
        return None
    data = as_dict(flow_data, "flow_data")
    kind = data.get("type")
    if kind not in FLOWS:
        raise StripeError("Invalid flow_data[type]", param="flow_data[type]")
    if kind != "payment_method_update":
        raise StripeError(
            f"The stand-in does not simulate the {kind} flow.", param="flow_data[type]"
        )
    return {
        "after_completion": {
            "hosted_confirmation": None,
            "redirect": None,
            "type": "portal_homepage",
        },
        "subscription_cancel": None,
        "subscription_update": None,
        "subscription_update_confirm": None,
        "type": kind,
    }
