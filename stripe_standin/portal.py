"""The billing portal: its configurations, and sessions that link to the simulated portal page.

As at Stripe (test mode too), a session needs a configuration: the one named by
``configuration``, or the account's default. Configurations made through the API are not the
default (the Dashboard's saved settings are); ``POST /_standin/portal/default`` plays that part.
"""

from __future__ import annotations

from typing import Any

from stripe_standin.errors import StripeError
from stripe_standin.params import as_bool, as_dict, as_str, merge_metadata
from stripe_standin.store import JSON, Store

NO_CONFIGURATION = (
    "You can't create a portal session in test mode until you save your customer portal "
    "settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal."
)
FEATURES = (
    "customer_update",
    "invoice_history",
    "payment_method_update",
    "subscription_cancel",
    "subscription_update",
    "subscription_pause",
)


def _features(current: JSON, raw: Any) -> JSON:
    features = {name: dict(current.get(name) or {"enabled": False}) for name in FEATURES}
    for name, value in as_dict(raw, "features").items():
        if name not in FEATURES:
            raise StripeError(f"Received unknown parameter: features[{name}]", param="features")
        settings = as_dict(value, f"features[{name}]")
        if "enabled" in settings:
            settings["enabled"] = as_bool(settings["enabled"], f"features[{name}][enabled]")
        features[name].update(settings)
    return features


def create_configuration(store: Store, params: JSON, *, default: bool = False) -> JSON:
    """``POST /v1/billing_portal/configurations``."""
    if not params.get("features"):
        raise StripeError("Missing required param: features.", param="features")
    configuration = store.base(
        "billing_portal.configuration",
        "bpc",
        metadata=merge_metadata({}, params.get("metadata", {})),
    )
    configuration.update(
        {
            "active": True,
            "application": None,
            "business_profile": as_dict(params.get("business_profile"), "business_profile"),
            "default_return_url": params.get("default_return_url") or None,
            "features": _features({}, params["features"]),
            "is_default": default,
            "login_page": {"enabled": False, "url": None},
            "name": params.get("name") or None,
            "updated": configuration["created"],
        }
    )
    return store.add(configuration)


def update_configuration(store: Store, configuration: JSON, params: JSON) -> JSON:
    if "features" in params:
        configuration["features"] = _features(configuration["features"], params["features"])
    if "default_return_url" in params:
        configuration["default_return_url"] = params["default_return_url"] or None
    if "active" in params:
        configuration["active"] = as_bool(params["active"], "active")
    if "metadata" in params:
        configuration["metadata"] = merge_metadata(configuration["metadata"], params["metadata"])
    if "name" in params:
        configuration["name"] = params["name"] or None
    return configuration


def _configuration_for(store: Store, requested: Any) -> JSON:
    if requested:
        configuration = store.get(
            "billing_portal.configuration", as_str(requested, "configuration"), "configuration"
        )
        if not configuration["active"]:
            raise StripeError("This configuration is not active.", param="configuration")
        return configuration
    for configuration in store.all("billing_portal.configuration"):
        if configuration["is_default"] and configuration["active"]:
            return configuration
    raise StripeError(NO_CONFIGURATION)


def create(store: Store, params: JSON) -> JSON:
    """``POST /v1/billing_portal/sessions``: a session whose ``url`` opens the portal page."""
    customer_id = params.get("customer")
    if not customer_id:
        raise StripeError("Missing required param: customer.", param="customer")
    store.get("customer", as_str(customer_id, "customer"), "customer")
    configuration = _configuration_for(store, params.get("configuration"))
    wanted = as_dict(params.get("flow_data"), "flow_data").get("type")
    if wanted in FLOWS:
        # A flow needs its feature on in the configuration (updating a subscription or
        # confirming an update are both the subscription_update feature).
        feature = configuration["features"].get(str(wanted).removesuffix("_confirm"))
        if feature is None or not feature.get("enabled"):
            raise StripeError(
                f"The {wanted} flow is not enabled in this configuration.",
                param="flow_data[type]",
            )
    flow = _flow(params.get("flow_data"))
    return_url = params.get("return_url") or configuration["default_return_url"]
    portal = store.base("billing_portal.session", "bps")
    portal.update(
        {
            "configuration": configuration["id"],
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
